"""The architecture config without Keras: the documented defaults, every check at its boundary, resume differences."""

from __future__ import annotations

import pytest

from models import config as cfg
from rundir.errors import ZspaceError


def test_the_defaults_are_the_seed_architecture():
    # models/config.py: the seed's (Part XII) 4 x Conv2D with filters 32..256, kernel 3; a 256-d VAE on 96 px, BCE
    assert cfg.make_config() == {
        "model": "vae",
        "image_size": 96,
        "channels": 3,
        "z_dim": 256,
        "filters": [32, 64, 128, 256],
        "kernel_size": 3,
        "extra_dense": None,
        "batch_norm": False,
        "beta": 1.0,
        "recon_loss": "bce",
    }
    assert cfg.DOWNSAMPLING == 16 and tuple(cfg.ARCHITECTURE_DEFAULTS) == cfg.ARCHITECTURE_FIELDS


def test_none_means_the_default_and_other_values_replace_it():
    made = cfg.make_config(model="ae", z_dim=None, image_size=32, batch_norm=1, beta="0.5", filters="8, 16 32,64")
    assert (made["model"], made["z_dim"], made["image_size"]) == ("ae", 256, 32)
    assert made["batch_norm"] is True and made["beta"] == 0.5 and made["filters"] == [8, 16, 32, 64]


@pytest.mark.parametrize(("size", "hint"), [(8, "try 16"), (24, "try 16"), (40, "try 32"), (100, "try 96")])
def test_an_image_size_off_the_grid_of_16_is_refused_with_the_nearest_size_below(size, hint):
    with pytest.raises(ZspaceError, match=f"image size {size} is not a multiple of 16 .*; {hint}$"):
        cfg.make_config(image_size=size)


def test_the_smallest_image_size_is_one_grid_step():
    assert cfg.make_config(image_size=16)["image_size"] == 16


@pytest.mark.parametrize("key", ["channels", "z_dim", "kernel_size", "extra_dense", "image_size"])
@pytest.mark.parametrize("value", [0, -1, 2.5, True, "3"])
def test_counts_must_be_positive_whole_numbers(key, value):
    with pytest.raises(ZspaceError, match=f"^{key} must be a positive integer, got {value!r}$"):
        cfg.validate_config({key: value})


def test_a_whole_float_count_becomes_an_int_and_one_is_the_smallest():
    made = cfg.validate_config({"z_dim": 2.0, "channels": 1, "kernel_size": 1, "extra_dense": 1})
    assert (made["z_dim"], made["channels"], made["kernel_size"], made["extra_dense"]) == (2, 1, 1, 1)
    assert isinstance(made["z_dim"], int)


@pytest.mark.parametrize("filters", [[32, 64, 128], [32, 64, 128, 256, 512], [32, 0, 128, 256], ["a", 1, 2, 3], 7])
def test_filters_must_be_four_positive_integers(filters):
    with pytest.raises(ZspaceError, match=r"^filters must be 4 positive integers, got "):
        cfg.validate_config({"filters": filters})


def test_filters_of_one_are_taken():
    assert cfg.validate_config({"filters": [1, 1, 1, 1]})["filters"] == [1, 1, 1, 1]


@pytest.mark.parametrize(
    ("beta", "message"),
    [
        (-0.1, "beta must be >= 0, got -0.1"),
        (float("nan"), "beta must be >= 0, got nan"),
        ("x", "beta must be a number, got 'x'"),
    ],
)
def test_beta_must_be_a_number_not_below_zero(beta, message):
    with pytest.raises(ZspaceError, match=f"^{message}$"):
        cfg.validate_config({"beta": beta})
    assert cfg.validate_config({"beta": 0})["beta"] == 0.0


def test_only_the_known_model_kinds_and_losses_are_taken():
    assert cfg.validate_config({"recon_loss": "mse", "model": "ae"})["recon_loss"] == "mse"
    with pytest.raises(ZspaceError, match="^unknown model kind 'gan'; use 'ae' or 'vae'$"):
        cfg.validate_config({"model": "gan"})
    with pytest.raises(ZspaceError, match="^unknown reconstruction loss 'l1'; use 'bce' or 'mse'$"):
        cfg.validate_config({"recon_loss": "l1"})


def test_architecture_of_keeps_only_the_network_fields_checked():
    run_config = {**cfg.make_config(z_dim=8), "epochs": 3, "data": "synthetic:10", "seed": 4}
    assert cfg.architecture_of(run_config) == cfg.make_config(z_dim=8)
    with pytest.raises(ZspaceError, match="z_dim must be a positive integer"):
        cfg.architecture_of({**run_config, "z_dim": 0})


def test_the_training_source_is_train_data_else_data():
    assert cfg.training_source({"data": "folder:new", "train_data": "celeba:old"}) == "celeba:old"
    assert cfg.training_source({"data": "celeba:old"}) == "celeba:old"
    assert cfg.training_source({"data": "celeba:old", "train_data": None}) == "celeba:old"
    assert cfg.training_source({}) is None


def test_resume_differences_name_each_differing_field_in_the_given_order():
    old = {"z_dim": 8, "model": "ae", "beta": 1.0}
    new = {"z_dim": 16, "model": "ae", "beta": 2.0, "epochs": 5}
    assert cfg.config_differences(old, new, ("beta", "model", "z_dim", "epochs")) == [
        "beta: 1.0 -> 2.0",
        "z_dim: 8 -> 16",
        "epochs: None -> 5",
    ]
    assert cfg.config_differences(old, dict(old), ("z_dim", "model")) == []


def test_snapshots_are_off_without_snapshot_every_and_a_row_count_alone_is_refused():
    assert cfg.snapshot_settings(None, None, 100) == {"snapshot_every": None, "snapshot_n": None}
    with pytest.raises(ZspaceError) as refused:
        cfg.snapshot_settings(None, 10, 100)
    assert str(refused.value) == "--snapshot-n needs --snapshot-every E (how many epochs between snapshots)"


@pytest.mark.parametrize("flag", ["--snapshot-every", "--snapshot-n"])
@pytest.mark.parametrize("value", [0, -1, True, 2.5, "3"])
def test_snapshot_options_must_be_positive_whole_numbers(flag, value):
    every, n = (value, None) if flag == "--snapshot-every" else (1, value)
    with pytest.raises(ZspaceError) as refused:
        cfg.snapshot_settings(every, n, 100)
    assert str(refused.value) == f"{flag} must be a positive whole number, got {value!r}"


def test_snapshot_rows_default_to_five_thousand_capped_at_the_data_and_may_be_exactly_all_of_it():
    assert cfg.DEFAULT_SNAPSHOT_N == 5000
    assert cfg.snapshot_settings(2, None, 12000) == {"snapshot_every": 2, "snapshot_n": 5000}
    assert cfg.snapshot_settings(1, None, 300) == {"snapshot_every": 1, "snapshot_n": 300}
    assert cfg.snapshot_settings(1, 1, 300) == {"snapshot_every": 1, "snapshot_n": 1}
    assert cfg.snapshot_settings(3, 1000, 1000) == {"snapshot_every": 3, "snapshot_n": 1000}
    with pytest.raises(ZspaceError) as refused:
        cfg.snapshot_settings(3, 1001, 1000)
    assert str(refused.value) == "--snapshot-n 1,001 is larger than the data (1,000 images); give at most 1,000"
