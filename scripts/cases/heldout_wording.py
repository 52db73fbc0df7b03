"""Held-out wording variants: realistic texts that fall outside the README's documented conventions.

Each variant is a held-out case (heldout_insider.py) with one text changed to a wording a real
profile or news feed carries, but which the documented conventions (README, "How news is judged"
and "How the profile is read") do not cover: a results-date notice not in the scheduling list, a
plan's adoption date written in words, "RSU" read as an instrument, a takeover-panel announcement
title with no M&A keyword. They showed what such wordings did to a case; the rules now read
them by pattern (README, "How news is judged", "How the profile is read") and the variants are
in the library (case.json "set": "held-out 1 wording"). Their rationales keep the reviewer's
note of what was outside the conventions at the time.
"""

from __future__ import annotations

from dataclasses import replace

from cases import heldout_insider
from cases.common import Case


def _news(case: Case, old: str, new: str) -> None:
    for items in case.world.news.values():
        for i, (ts, source, text) in enumerate(items):
            if old in text:
                items[i] = (ts, source, text.replace(old, new))
                return
    raise AssertionError(f"{case.name}: no headline contains {old!r}")


def _drop_news(case: Case, old: str) -> None:
    for items in case.world.news.values():
        items[:] = [item for item in items if old not in item[2]]


def _restrictions(case: Case, old: str, new: str) -> None:
    rows = case.world.rows["trader_profiles.csv"]
    assert any(old in r[5] for r in rows), f"{case.name}: no profile contains {old!r}"
    for r in rows:
        r[5] = r[5].replace(old, new)


def _variant(base, name: str, change, note: str) -> Case:
    case = base()
    change(case)
    return replace(case, name=name, rationale=f"{case.rationale} WORDING VARIANT (outside the documented "
                                              f"conventions): {note}")


def results_date_release_wording() -> Case:
    return _variant(heldout_insider.card_data_before_earnings, "wording_insider_card_data_release_date_notice",
                    lambda c: _news(c, "to report second-quarter results on August 22",
                                    "to release second-quarter earnings on August 22"),
                    "the results-date notice reads 'to release second-quarter earnings on August 22' instead of "
                    "'to report … on': the same scheduling notice, a wording not in the documented list.")


def drip_date_in_words() -> Case:
    return _variant(heldout_insider.drip_director_purchase, "wording_insider_drip_adoption_date_in_words",
                    lambda c: _restrictions(c, "adopted 2021-06-30", "adopted 30 June 2021"),
                    "the plan's adoption date is written '30 June 2021'; the documented convention reads only "
                    "YYYY-MM-DD.")


def sell_to_cover_rsu() -> Case:
    return _variant(heldout_insider.sell_to_cover_rsu_vesting, "wording_insider_sell_to_cover_rsu",
                    lambda c: _restrictions(c, "quarterly vesting of VRTA restricted stock units",
                                            "quarterly RSU vesting"),
                    "the plan says 'quarterly RSU vesting' without the ticker; by the documented convention 'RSU' "
                    "is a word of capitals and so an instrument other than the traded one.")


def possible_offer_rns_title_only() -> Case:
    return _variant(heldout_insider.buy_after_possible_offer_statement, "wording_insider_possible_offer_rns_only",
                    lambda c: _drop_news(c, "confirms takeover approach"),
                    "only the regulatory announcement's own title, 'Statement re possible offer' (the UK Takeover "
                    "Code Rule 2.4 form), is in the feed; 'possible offer' is not among the documented M&A words.")


CASES = (results_date_release_wording, drip_date_in_words, sell_to_cover_rsu, possible_offer_rns_title_only)
