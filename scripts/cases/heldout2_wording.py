"""Held-out set 2, wording: realistic texts slightly outside the README's documented conventions.

Each variant is a case of held-out set 2 or of the library with one text changed to a wording that
real profiles, relationship files and news feeds carry but which the documented conventions
(README: "How news is judged", "How the profile is read", the wash-trade and spoofing role tables)
do not list; one (the MDAX inclusion) is a new control written in such wording. They are a set of
their own ("held-out 2 wording" in case.json) so that the main held-out figure measures the rules
within their conventions and this one measures how they degrade outside them. Each rationale
ends with what is outside the conventions (as documented when the set was written).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from cases import heldout2_insider, insider_controls, spoofing, wash
from cases.common import CLOSE, ESCALATE, Case
from cases.heldout2_insider import _world
from cases.heldout_wording import _news, _restrictions, _variant
from cases.insider import _case
from cases.insider_controls import INDEX_BASKET
from cases.world import day


def _add_news(case: Case, symbol: str, ts: str, source: str, text: str) -> None:
    case.world.headline(symbol, ts, source, text)


def _accept(case: Case, acceptable: tuple[str, ...]) -> Case:
    return replace(case, acceptable=acceptable)


# --------------------------------------------------------------------------- news

def rumour_people_with_knowledge() -> Case:
    return _variant(heldout2_insider.it_officer_buys_target, "wording2_insider_rumour_people_with_knowledge",
                    lambda c: _add_news(c, "CHRT", "2024-02-02 18:40", "Bloomberg",
                                        "Lumenor eyes takeover of Chartwell Photonics, according to people with "
                                        "knowledge of the matter"),
                    "a Bloomberg report five days before the trade says the acquirer 'eyes' a takeover 'according "
                    "to people with knowledge of the matter' — Bloomberg's standard attribution of an unconfirmed "
                    "story; the documented rumour markers list 'people familiar/close', not 'people with "
                    "knowledge', nor 'eyes'. A press report of a possible deal does not make the inside "
                    "information public (SEC v. Mayhew), and the trade is still an insider of the acquirer "
                    "accumulating the target.")


def rumour_sky_news_has_learnt() -> Case:
    return _variant(heldout2_insider.tippee_day_trader_before_bid, "wording2_insider_rumour_sky_news_has_learnt",
                    lambda c: _add_news(c, "TMBR", "2024-05-15 21:30", "Sky News",
                                        "Corvus Capital in talks to buy Timberline Software, Sky News has learnt"),
                    "an evening scoop the day before the trade reads 'in talks to buy …, Sky News has learnt' — the "
                    "UK press's usual form for an unconfirmed story from unnamed sources; none of the documented "
                    "rumour markers ('said to', 'sources', 'reportedly', 'people familiar' …) appears. The company "
                    "had not confirmed anything; a first-ever purchase two sessions before the offer is still the "
                    "tippee's pattern.")


def financial_calendar_notice() -> Case:
    return _variant(heldout2_insider.legal_head_sells_before_results, "wording2_insider_financial_calendar_notice",
                    lambda c: _news(c, "Pellam Devices to report third-quarter results on July 30",
                                    "Pellam Devices financial calendar: third-quarter results 30 July 2024, after "
                                    "market close"),
                    "the results-date notice is the issuer's 'financial calendar' line, 'third-quarter results 30 "
                    "July 2024, after market close': it names the date without 'on', 'due', 'scheduled' or an "
                    "announcing verb, so none of the documented scheduling-notice patterns matches. It says when, "
                    "not what.")


# --------------------------------------------------------------------------- profiles

def insider_list_restriction() -> Case:
    case = _variant(heldout2_insider.it_officer_buys_target, "wording2_insider_insider_list_restriction",
                    lambda c: _restrictions(c, "Pre-clearance required for trades in company securities",
                                            "Pre-clearance required for trades in company securities; insider list: "
                                            "Project Cobalt (CHRT) from 2024-01-22"),
                    "the profile records that the trader was put on the insider list for the project whose target "
                    "is CHRT two weeks before he bought it ('insider list: Project Cobalt (CHRT) from 2024-01-22'); "
                    "'insider list' is not among the documented restriction phrases. A person on an insider list "
                    "(MAR Art. 18) dealing in the instrument it names is a breach a reviewer escalates.")
    return _accept(case, (ESCALATE,))


def employee_stock_purchase_plan() -> Case:
    return _variant(heldout2_insider.employee_share_purchase_plan, "wording2_insider_employee_stock_purchase_plan",
                    lambda c: _restrictions(c, "Employee share purchase plan adopted 2023-01-16",
                                            "Employee stock purchase plan (ESPP) enrolled 2023-01-16"),
                    "the plan is written 'Employee stock purchase plan (ESPP) enrolled 2023-01-16', the US name; "
                    "the documented plan phrases include 'share purchase plan' but not 'stock purchase plan' or "
                    "'ESPP'.")


def rule_10b5_1_nonbreaking_hyphen() -> Case:
    return _variant(insider_controls.plan_sale_chief_executive, "wording2_insider_rule_10b5_1_nonbreaking_hyphen",
                    lambda c: _restrictions(c, "Rule 10b5-1 trading plan adopted", "Rule 10b5\u20111 plan adopted"),
                    "the plan is recorded as 'Rule 10b5\u20111 plan' with the non-breaking hyphen (U+2011) that SEC "
                    "filings and their HTML copies use, and without the words 'trading plan'; the documented phrase "
                    "is '10b5-1' with an ASCII hyphen.")


# --------------------------------------------------------------------------- roles and account types

def designated_sponsor_two_sided() -> Case:
    def change(case: Case) -> None:
        for r in case.world.rows["trader_profiles.csv"]:
            r[2], r[3] = "Designated Sponsor", "Xetra Liquidity Provision"
    case = _variant(spoofing.market_maker_two_sided_fills, "wording2_spoofing_designated_sponsor_two_sided", change,
                    "the trader is a Xetra 'Designated Sponsor' in the 'Liquidity Provision' department — Deutsche "
                    "Börse's name for a market maker with quoting obligations; the documented role phrase is "
                    "'market mak'.")
    alert = case.alert.replace("<Department>Electronic Market Making</Department>",
                               "<Department>Xetra Liquidity Provision</Department>")
    assert alert != case.alert
    return replace(case, alert=alert)


def fund_cross_oeic_sicav() -> Case:
    def change(case: Case) -> None:
        rows = case.world.rows["wash_trade/account_relationships.csv"]
        assert [r[3] for r in rows] == ["fund", "fund"]
        rows[0][3], rows[1][3] = "oeic", "sicav"
    return _variant(wash.fund_cross_same_manager, "wording2_wash_fund_cross_oeic_sicav", change,
                    "the two funds' relationship_type is recorded by legal form, 'oeic' (a UK open-ended investment "
                    "company) and 'sicav' (a Luxembourg UCITS), instead of 'fund'; the documented collective "
                    "investment types are fund, investment_fund, mutual_fund, pension_fund, ucits and etf.")


# --------------------------------------------------------------------------- new control in outside wording

def mdax_inclusion_fund_buy() -> Case:
    name, sym, trade, event = "wording2_insider_mdax_inclusion_fund_buy", "NHFN", day("2024-09-20"), \
        day("2024-09-23")
    w = _world(name, sym, "Nordhafen Logistik", "Industrials", trade, event, 52.40, vol=0.005,
               moves={day("2024-09-05"): 0.05, event: 0.01})
    trader = w.profile("T712", "Passive Equities Desk", "Index Portfolio Manager", "Passive Equities - German Trackers",
                       "MEDIUM", "")
    w.baseline("T712", INDEX_BASKET, 60, (20_000, 120_000), trade - timedelta(days=3))
    for i, d in enumerate((trade, trade, trade, day("2024-09-19"))):
        w.peer(f"P-88{i}", d, sym, "BUY", 120_000 + 25_000 * i, 52.3, "institutional")
    w.headline(sym, "2024-09-04 22:05", "Deutsche Börse", "Nordhafen Logistik to join MDAX, Kessler Chemie moves to "
               "SDAX, effective 23 September")
    w.headline(sym, "2024-09-05 08:30", "Börsen-Zeitung", "Nordhafen Logistik shares climb after MDAX promotion")
    return _case(name, "control",
                 "Typical false positive: an index fund buying a new constituent on the eve of the effective date of "
                 "a Deutsche Börse quarterly index review (announced about two and a half weeks ahead)",
                 "The passive desk buys 180,000 shares of a company joining the MDAX on the last session before the "
                 "change takes effect, with other index funds; the change was announced by the index provider 16 "
                 "days earlier. A first trade, large for the desk, in the index's new member is what a tracking "
                 "mandate requires. WORDING (outside the documented conventions): the announcement names the index "
                 "as 'MDAX' (and 'SDAX') without the word 'index'; the documented index words are index, S&P, FTSE, "
                 "Russell n, STOXX, MSCI, MidCap, SmallCap and Nasdaq-100.",
                 (CLOSE,), w, trader, sym, trade, "BUY", 180_000,
                 ("Index Inclusion", event, "Nordhafen Logistik included in the MDAX effective today"), score=88)


CASES = (rumour_people_with_knowledge, rumour_sky_news_has_learnt, financial_calendar_notice,
         insider_list_restriction, employee_stock_purchase_plan, rule_10b5_1_nonbreaking_hyphen,
         designated_sponsor_two_sided, fund_cross_oeic_sicav, mdax_inclusion_fund_buy)
