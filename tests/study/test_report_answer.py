"""The report says in words which of the seed's claims hold on each run, exactly as its claims table decides them."""

from __future__ import annotations

from study.report_sections import claims_answer, claims_table


def _claim(text, holds):
    return {"claim": text, "measure": "m", "value": 1.0, "rule": "r", "holds": holds}


def test_the_answer_lists_held_and_failed_claims_per_run_and_leaves_out_undecided_ones():
    summary = {
        "runs": [
            {
                "run": "demo-ae",
                "claims": [
                    _claim("The z-points lie on thin filaments", False),
                    _claim("Random z from N(0, I) decode to non-faces", True),
                    _claim("Probes in voids decode to <nonsense>", False),
                    _claim("A claim without its number", None),
                ],
            },
            {"run": "demo-vae", "claims": [_claim("Random z from N(0, I) decode to non-faces", False)]},
        ],
        "comparison": [],
    }
    answer = claims_answer(summary)
    assert answer == (
        "<ul class='answer'>"
        "<li><b>demo-ae</b> — holds: Random z from N(0, I) decode to non-faces. does not hold: The z-points lie "
        "on thin filaments; Probes in voids decode to &lt;nonsense&gt;.</li>"
        "<li><b>demo-vae</b> — holds: none. does not hold: Random z from N(0, I) decode to non-faces.</li>"
        "</ul>"
    )
    assert "without its number" not in answer
    # The answer stands above the table it summarises.
    page = claims_table(summary)
    assert page.index(answer) < page.index("<table")
