"""The third round of general principles, each on a minimal case (README "The investigations and the offline rules").

What is disclosure (MAR Art. 7, 17; ESMA on rumours); the flagged trade in the context of the trader's day; novelty
judged on the holdings; one fact counted once; what a STOR needs; wash patterns need two-way flow between separately
owned accounts; an exemption never covers a pattern; spoofing around an auction's uncross; recurrence as a signature,
not a style; baselines that leave the suspect's own episodes out; and the vocabulary the rules read normalised.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from agents.analyst_offline import OfflineAnalyst
from agents.data import Dataset
from agents.progress import NullReporter
from agents.text import normalise
from agents.tools import accounts, news, orders, trader
from tests.rules_support import TRADE_DAY, case_of, fired, insider_alert, spoofing_alert, wash_alert, write_data

EVENT = TRADE_DAY + timedelta(days=3)


def insider(overrides: dict, **alert) -> dict[str, int]:
    return fired("insider", insider_alert(**{"event_date": EVENT, **alert}), overrides)


def decide(kind: str, alert, overrides: dict):
    return OfflineAnalyst().decide(case_of(kind, alert, overrides), NullReporter())


# ----------------------------------------------------------------------------- what is disclosure

@pytest.mark.parametrize(("source", "headline", "attribution"), [
    ("RNS", "Statement re possible offer for Acme Widgets", "official"),
    ("Company filing", "Acme Widgets confirms it is in talks", "official"),        # the issuer's channel wins
    ("S&P Dow Jones Indices", "Acme Widgets to join S&P 500", "official"),        # the index provider, for its index
    ("Reuters", "Bigco agrees to acquire Acme Widgets at 40% premium", "confirmed"),
    ("Reuters", "Acme Widgets confirms takeover approach", "confirmed"),
    ("Bloomberg", "Bigco eyes takeover of Acme Widgets, according to people with knowledge of the matter",
     "unconfirmed"),
    ("Sky News", "Bigco in talks to buy Acme Widgets, Sky News has learnt", "unconfirmed"),
    ("Reuters", "Acme Widgets confirms nothing as Bigco is said to weigh bid", "unconfirmed"),  # doubt: unconfirmed
    ("Dow Jones", "Acme Widgets expected to report higher sales, analysts say", "unconfirmed"),
    ("Reuters", "Bigco to buy Acme Widgets", "unattributed"),
])
def test_who_vouches_for_a_headline(source, headline, attribution):
    assert news.attribution_of(normalise(headline), normalise(source)) == attribution


RUMOURS = """===== ACME News Timeline =====
2024-03-06 18:40 - Bloomberg: Bigco eyes takeover of Acme Widgets, according to people with knowledge of the matter
2024-03-08 21:30 - Sky News: Bigco in talks to buy Acme Widgets, Sky News has learnt
2024-03-11 09:00 - Reuters: Bigco to buy Acme Widgets
"""


def test_a_rumour_or_an_unattributed_report_is_never_disclosure(tmp_path):
    """Of the event's matter, only an official channel or a report of a confirmed act discloses; anything else is an
    unconfirmed report (ID-M7): it weighs, once, but it is no disclosure (ID-M1), so ID-G1 stands."""
    event = insider_alert(event_date=date(2024, 3, 20)).related_event
    ds = Dataset(write_data(tmp_path, news=RUMOURS, instruments=[["ACME", "Acme Widgets plc", "Industrials"]]))
    facts = news.timeline(ds, "ACME", TRADE_DAY, "BUY", event, NullReporter()).facts
    assert [j["judged"] for j in facts["judged"]] == ["reported"] * 3
    assert "the safe default" in facts["judged"][2]["why"]
    assert not facts["news_silence"] and not facts["disclosed_before"] and len(facts["reported_before"]) == 3
    case = case_of("insider", insider_alert(event_date=EVENT), {"news": facts, "market_data": {"material_move": True}})
    findings = case.findings_from_rules()
    assert {f.rule: f.weight for f in findings if f.rule in ("ID-R5", "ID-M1", "ID-M7")} == {"ID-M7": -20}
    assert [g.id for g in case.standing_guards(findings)] == ["ID-G1"]
    confirmed = RUMOURS + "2024-03-12 07:00 - RNS: Statement re possible offer for Acme Widgets\n"
    ds = Dataset(write_data(tmp_path / "rns", news=confirmed, instruments=[["ACME", "Acme Widgets plc", "X"]]))
    facts = news.timeline(ds, "ACME", TRADE_DAY, "BUY", event, NullReporter()).facts
    assert not facts["news_silence"] and facts["disclosed_before"][0].startswith("“Statement re possible offer")


def test_a_calendar_line_says_when_not_what():
    for text in ("Pellam Devices financial calendar: third-quarter results 30 July 2024, after market close",
                 "Acme Widgets full-year results - 12 March"):
        assert news._SCHEDULING.search(normalise(text)), text
    assert not news._SCHEDULING.search("Acme Widgets full-year results beat forecasts")


@pytest.mark.parametrize("headline", ["Nordhafen Logistik to join MDAX, Kessler Chemie moves to SDAX",
                                      "Acme to be added to the CAC 40", "Acme joins the ASX 200",
                                      "Acme Widgets to join S&P 500"])
def test_index_names_without_the_word_index_are_index_changes(headline):
    assert news.subject_of(headline) == news.INDEX_CHANGE


def test_unicode_dashes_and_spaces_read_as_plain_text():
    assert normalise("Rule 10b5\u20111\u00a0plan \u2013 sell") == "Rule 10b5-1 plan - sell"
    facts = trader.read_restrictions("Rule 10b5\u20111 plan adopted 2023-10-02: sell 20,000 LMTX monthly", "LMTX")
    assert facts["plan"]["adopted"] == "2023-10-02" and facts["plan"]["side"] == "SELL" and not facts["unread"]


# ----------------------------------------------------------------------------- the profile, read or shown as a gap

@pytest.mark.parametrize(("text", "expected"), [
    ("Employee stock purchase plan (ESPP) enrolled 2023-01-16: GBP 500 of ACME monthly", ("plan", "2023-01-16")),
    ("Sharesave (SAYE) scheme joined 2022-05-03: ACME bought monthly", ("plan", "2022-05-03")),
    ("insider list: Project Cobalt (ACME) from 2024-01-22", ("restricted", None)),
    ("Wall-crossed on ACME placing", ("restricted", None)),
])
def test_plans_and_restrictions_by_their_usual_names(text, expected):
    facts = trader.read_restrictions(text, "ACME", known=set())
    kind, adopted = expected
    if kind == "plan":
        assert facts["plan"]["adopted"] == adopted and facts["plan"]["side"] == "BUY"
    else:
        assert facts["symbol_restricted"] and facts["restriction"] == normalise(text)
    assert not facts["unread"]


def test_a_clause_the_rules_cannot_read_is_a_gap_for_a_human(tmp_path):
    text = ("Pre-clearance required; quarterly blackout calendar administered by Legal; 30-day holding period; "
            "trading plan on file; dividend mandate with broker")
    facts = trader.read_restrictions(text, "ACME", known=set())
    assert [why.split(":")[0].split(",")[0] for _c, why in facts["unread"]] == [
        "a restriction that names no instrument", "not a phrase the rules recognise",
        "a plan with no adoption date the rules can read", "mentions a plan or mandate the rules do not recognise"]
    ds = Dataset(write_data(tmp_path, trader_profiles=[["T1", "Ann", "Trader", "Cash", "LOW", text]]))
    ev = trader.profile(ds, "T1", "ACME", NullReporter())
    assert "“30-day holding period”" in ev.gaps["profile"] and ev.cite("profile")[0].lines == (2,)


@pytest.mark.parametrize(("role", "department", "inside", "market_maker"), [
    ("Senior Dealer", "Private Client Stockbroking", False, False),   # "deal" inside "Dealer" is no deal team
    ("Private client (advisory)", "Private Client - Advisory", False, False),
    ("Associate", "M&A Advisory", True, False),
    ("Designated Sponsor", "Xetra Liquidity Provision", False, True),
    ("Market Maker", "Electronic Market Making", False, True),
    ("Trader", "Designated Market Making - Mid Caps", False, True),
])
def test_roles_are_read_as_whole_phrases(tmp_path, role, department, inside, market_maker):
    ds = Dataset(write_data(tmp_path, trader_profiles=[["T1", "Ann", role, department, "MEDIUM", ""]]))
    facts = trader.profile(ds, "T1", "ACME", NullReporter()).facts
    assert (facts["inside_information_access"], facts["market_maker"]) == (inside, market_maker)


# ----------------------------------------------------------------------------- novelty, the day's book, one fact once

def _held(tmp_path, rows, side="SELL", qty=5_000, run_up=None):
    baseline = [["T1", (date(2023, 6, 1) + timedelta(days=7 * i)).isoformat(), "QRTZ", "BUY", 1_000, 70.0, "Tech"]
                for i in range(12)]
    ds = Dataset(write_data(tmp_path, trader_history=baseline + rows))
    return trader.history(ds, "T1", "ACME", TRADE_DAY, side, qty, NullReporter(), run_up_start=run_up,
                          price=10.0).facts


def test_the_sale_of_a_held_position_is_not_a_first_trade(tmp_path):
    """A first trade opens a position: selling shares received in the run-up, or bought before the baseline year, is
    not one; neither is buying more of an old holding. A purchase in a new name still is."""
    received = [["T1", "2024-03-01", "ACME", "BUY", 5_000, 10.0, "Retail"]]
    old = [["T1", "2022-11-14", "ACME", "BUY", 5_000, 12.0, "Retail"]]
    assert not _held(tmp_path / "a", received, run_up=date(2024, 2, 20))["first_time_symbol"]
    assert not _held(tmp_path / "b", old)["first_time_symbol"]
    assert not _held(tmp_path / "c", old, side="BUY")["first_time_symbol"]
    new = _held(tmp_path / "d", [], side="BUY")
    assert new["first_time_symbol"] and new["first_time_sector"] is False  # ACME has no sector on record
    assert _held(tmp_path / "e", [], side="SELL")["first_time_symbol"]  # a short sale opens a position


def _book(others: int, each: int = 20_000):
    rows = [["T1", "2024-01-10", "ACME", "BUY", 5_000, 10.0, "Retail"]]
    for i in range(others):
        rows += [["T1", "2024-01-10", f"OTH{i}", "BUY", each, 10.0, "Other"],
                 ["T1", TRADE_DAY.isoformat(), f"OTH{i}", "SELL", each, 10.0, "Other"]]
    return rows


@pytest.mark.parametrize(("others", "each", "book_wide"), [(3, 20_000, True), (2, 20_000, False),
                                                            (3, 1_000, False)])  # three token sales are no cover
def test_a_sale_is_read_with_the_traders_other_sales_that_day(tmp_path, others, each, book_wide):
    facts = _held(tmp_path, _book(others, each))
    assert len(facts["book_exits"]) == others and facts["book_wide_exit"] is book_wide


BOOK_DAY = {"trader_history": {"exit_share": 1.0, "position_before": 5_000, "book_wide_exit": True,
                               "flagged_share_of_day": 0.2, "book_exits": [{"symbol": f"OTH{i}", "qty": 20_000,
                                                                            "held": 20_000} for i in range(3)]},
            "market_data": {"material_move": True, "favourable_move": True, "move_pct": -9.0,
                            "profit_or_loss_avoided": 60_000.0},
            "news": {"news_silence": True}}


def test_a_book_wide_sale_explains_the_exit_and_its_timing_for_a_trader_without_inside_access():
    """ID-M10 (MAR Art. 9(2)(b); Delegated Reg. 2016/957): the book was sold, not one holding singled out."""
    alert = insider_alert(side="SELL", event_date=EVENT)
    decision = decide("insider", alert, BOOK_DAY)
    assert decision.determination == "CLOSE" and decision.guard is None
    assert {f.rule for f in decision.of_kind("context")} >= {"ID-R4", "ID-R9", "ID-R11"}
    # never as cover: an insider's book-wide sale explains nothing, and the guards stand
    inside = decide("insider", alert, {**BOOK_DAY, "trader_profile": {"inside_information_access": True}})
    assert "ID-M10" not in {f.rule for f in inside.findings} and inside.determination != "CLOSE"
    officer = decide("insider", alert, {**BOOK_DAY, "trader_profile": {"officer": True}})
    assert "ID-M10" not in {f.rule for f in officer.findings} and officer.determination != "CLOSE"
    assert "ID-M10" not in fired("insider", alert, {**BOOK_DAY, "trader_history": {
        **BOOK_DAY["trader_history"], "exit_share": 0.5}})   # a trim is not one of the book's exits


def test_size_and_exit_of_one_position_count_once_but_the_exit_still_stands():
    exit_ = {"trader_history": {"size_ratio": 6.0, "exit_share": 1.0, "position_before": 10_000},
             "market_data": {"material_move": True}}
    found = insider(exit_, side="SELL")
    assert found["ID-R6"] == 15 and found["ID-R11"] == 0
    case = case_of("insider", insider_alert(side="SELL", event_date=EVENT), exit_)
    assert [g.id for g in case.standing_guards(case.findings_from_rules())] == ["ID-G1", "ID-G2"]


def test_an_index_announcement_counts_once_and_explains_the_mandates_trade():
    index = {"trader_profile": {"index_tracking": True, "role": "Index PM", "department": "Passive"},
             "news": {"disclosed_before": ["“Acme to join S&P 500” (S&P Dow Jones Indices)"],
                      "index_changes": [{"headline": "“Acme to join S&P 500”", "tone": "positive"}]},
             "trader_history": {"first_time_symbol": True, "size_ratio": 8.0}}
    found = insider(index)
    assert found["ID-M9"] == -30 and found["ID-M1"] == 0          # one announcement: the mandate's reading counts
    assert found["ID-R7"] == 0 and found["ID-R6"] == 0 and found["ID-R4"] == 0   # set by the index, explained


# ----------------------------------------------------------------------------- what a STOR needs

STACK = {"trader_history": {"size_ratio": 6.0}, "news": {"news_silence": True},
         "peer_trades": {"peers_same_side": 0}}


def test_insider_escalation_needs_materiality_or_three_independent_indicators():
    """Timing, size, silence, isolation and the system's score reach +55 with five red flags, but only two independent
    indicators (timing, size): a human decides. Access as a third, or a material gain, gives reasonable grounds."""
    decision = decide("insider", insider_alert(event_date=EVENT, score=95), STACK)
    assert decision.score == 55 and decision.determination == "NEEDS_HUMAN_REVIEW" and decision.stor is None
    assert "or 3 independent indicators among ID-R4, ID-R3, ID-R6/ID-R11, ID-R7/ID-R8" in decision.rationale
    access = decide("insider", insider_alert(event_date=EVENT, score=95),
                    {**STACK, "trader_profile": {"inside_information_access": True}})
    assert access.determination == "ESCALATE"
    material = decide("insider", insider_alert(event_date=EVENT, score=95),
                      {**STACK, "market_data": {"material_move": True}})
    assert material.determination == "ESCALATE"


# ----------------------------------------------------------------------------- wash trades

UNRELATED = {"account_relationships": {"linked_pairs": [], "owners": {"A": "X (1)", "B": "Y (2)"}}}


def test_one_way_bookings_between_separately_owned_accounts_are_no_pattern():
    """Each one-way pair moves shares to the buyer: a change of ownership, not a wash (an average-price account
    passing fills to its client). Between one owner's or linked accounts, either direction is a pattern."""
    one_way = {"related_accounts_history": {"offsetting_pairs": 5, "two_way": False, "flows": ["B→A"]}}
    found = fired("wash", wash_alert(), {**UNRELATED, **one_way})
    assert "WT-R6" not in found and found["WT-M4"] == -10 and found["WT-M2"] == -20
    same_owner = {"account_relationships": {"same_beneficial_owner": True, "linked_pairs": []}}
    assert fired("wash", wash_alert(), {**same_owner, **one_way})["WT-R6"] == 15
    assert fired("wash", wash_alert(), one_way)["WT-R6"] == 15          # linked accounts (the neutral case)
    two_way = {"related_accounts_history": {"offsetting_pairs": 5, "two_way": True}}
    assert fired("wash", wash_alert(), {**UNRELATED, **two_way})["WT-R6"] == 15


def test_the_history_tells_one_way_from_two_way_flow(tmp_path):
    rows = [r for t, (buyer, seller) in (("10:00:00", ("A", "B")), ("11:00:00", ("A", "B")))
            for r in ([buyer, "2024-03-12", t, "ACME", "BUY", 1_000, 20.0, seller, "O"],
                      [seller, "2024-03-12", t, "ACME", "SELL", 1_000, 20.0, buyer, "O"])]
    facts = accounts.related_history(Dataset(write_data(tmp_path, related_accounts_history=rows)), ["A", "B"], "ACME",
                                     TRADE_DAY, NullReporter()).facts
    assert facts["two_way"] is False and facts["flows"] == ["B→A"]


def test_the_exemption_never_covers_a_pattern():
    """FINRA 5210 .02: an isolated self-match of a firm's books is bona fide. Flow that goes both ways is never
    mitigated; one-way transfers between the books weigh, but WT-G2 keeps the pattern from a close."""
    exempt = {"account_relationships": {"same_beneficial_owner": True, "exempt_book": True, "linked_pairs": []}}
    assert fired("wash", wash_alert(), {**exempt, "related_accounts_history": {"offsetting_pairs": 1}})["WT-M1"] == -40
    assert "WT-M1" not in fired("wash", wash_alert(), {**exempt, "related_accounts_history": {"offsetting_pairs": 3}})
    one_way = {**exempt, "related_accounts_history": {"offsetting_pairs": 3, "two_way": False, "flows": ["B→A"]}}
    case = case_of("wash", wash_alert(), one_way)
    findings = case.findings_from_rules()
    assert {f.rule: f.weight for f in findings}["WT-M1"] == -40
    assert "WT-G2" in [g.id for g in case.standing_guards(findings)]


@pytest.mark.parametrize(("types", "fund", "exempt"), [(("oeic", "sicav"), True, False),
                                                        (("Unit Trust", "ICAV"), True, False),
                                                        (("Market Making", "liquidity-provider"), False, True),
                                                        (("designated_sponsor", "hedge book"), False, True)])
def test_account_types_by_legal_form_and_usual_names(tmp_path, types, fund, exempt):
    rows = [["A", "BO-1", "Alpha", types[0], "[]", "direct"], ["B", "BO-1" if exempt else "BO-2", "Beta", types[1],
                                                                  "[]", "direct"]]
    facts = accounts.relationships(Dataset(write_data(tmp_path, account_relationships=rows)), ["A", "B"],
                                   NullReporter()).facts
    assert (facts["all_funds"], facts["exempt_book"]) == (fund, exempt)


# ----------------------------------------------------------------------------- spoofing

def _pre_open(fill_after_pull: float, bid_at: float = 70) -> list[tuple]:
    """Four offers from 09:26 pulled at 09:29:55, a bid placed while they rest, filled ``fill_after_pull`` s later."""
    base = -2_040  # seconds before 10:00: 09:26:00
    offers = [(f"L{i}", base + 10 * i, "SELL", 15_000, 24.60 - i / 20, "PLACE", 0) for i in range(4)]
    offers += [(f"L{i}", base + 235 + i / 5, "SELL", 15_000, 24.60 - i / 20, "CANCEL", 0) for i in range(4)]
    pulled = base + 235 + 3 / 5
    bid = [("B", base + bid_at, "BUY", 5_000, 24.38, "PLACE", 0),
           ("B", pulled + fill_after_pull, "BUY", 5_000, 24.38, "EXECUTE", 5_000)]
    return sorted(offers + bid, key=lambda e: e[1])


@pytest.mark.parametrize(("after", "bid_at", "paid"), [(4.4, 70, True), (10.0, 70, True), (10.5, 70, False),
                                                        (4.4, 236, False)])   # a bid placed after the pull: no
def test_an_execution_just_after_the_layers_are_pulled_is_their_payoff(after, bid_at, paid):
    """MAR Annex I A(f), (g); SEC In re Briargate: pre-open layers pulled seconds before the uncross that fills the
    other side. An opposite order placed while they rested and filled within 10 s of their pull is SP-R3's payoff."""
    alert = spoofing_alert(_pre_open(after, bid_at))
    facts, _ = orders.episode_facts(alert)
    assert facts["executions_while_resting"] == 0 and (facts["executions_after_pull"] == 1) is paid
    found = fired("spoofing", alert, {"order_episode": facts})
    assert ("SP-R3" in found) is paid and ("SP-M2" in found) is not paid   # resting time shows nothing once paid off


def test_resting_time_in_an_auction_shows_nothing(tmp_path):
    alert = spoofing_alert(_pre_open(60)).model_copy(update={"market_context": {"MarketPhase": "Opening auction"}})
    ev = orders.episode(Dataset(write_data(tmp_path)), alert, NullReporter())
    assert ev.facts["auction_phase"] == "the alert's market phase: Opening auction"
    assert "SP-M2" not in fired("spoofing", alert, {"order_episode": ev.facts})
    facts = {**ev.facts, "auction_phase": None}
    assert fired("spoofing", alert, {"order_episode": facts})["SP-M2"] == -20


def _day(day: str, fast: int, layered: bool) -> list[list]:
    """One day's orders: ``fast`` orders cancelled within a second, ordinary slow ones, and maybe a layering episode."""
    start = datetime.fromisoformat(f"{day}T10:00:00")
    rows = []
    for i in range(fast):
        t = start + timedelta(minutes=i)
        rows += [[f"{day}-F{i}", "T1", "T1", t.isoformat(), day, "ACME", "BUY", 100, 10.0, "PLACE", 0],
                 [f"{day}-F{i}", "T1", "T1", (t + timedelta(seconds=1)).isoformat(), day, "ACME", "BUY", 100, 10.0,
                  "CANCEL", 0]]
    for i in range(4):
        t = start + timedelta(hours=2, minutes=i)
        rows += [[f"{day}-O{i}", "T1", "T1", t.isoformat(), day, "ACME", "SELL", 100, 10.1, "PLACE", 0],
                 [f"{day}-O{i}", "T1", "T1", (t + timedelta(seconds=30)).isoformat(), day, "ACME", "SELL", 100, 10.1,
                  "EXECUTE", 100]]
    if layered:
        t = start + timedelta(hours=4)
        for i in range(3):
            rows += [[f"{day}-L{i}", "T1", "T1", (t + timedelta(seconds=i)).isoformat(), day, "ACME", "BUY", 5_000,
                      9.9 - i / 100, "PLACE", 0],
                     [f"{day}-L{i}", "T1", "T1", (t + timedelta(seconds=40)).isoformat(), day, "ACME", "BUY", 5_000,
                      9.9 - i / 100, "CANCEL", 0]]
        rows += [[f"{day}-S", "T1", "T1", (t + timedelta(seconds=10)).isoformat(), day, "ACME", "SELL", 1_000, 10.0,
                  "PLACE", 0],
                 [f"{day}-S", "T1", "T1", (t + timedelta(seconds=20)).isoformat(), day, "ACME", "SELL", 1_000, 10.0,
                  "EXECUTE", 1_000]]
    return rows


def test_recurrence_is_the_signature_not_the_style(tmp_path):
    """A trader who cancels within seconds every day does so as a style: those days are no recurrence. Layers pulled
    around an execution on the other side are the signature, and they recur."""
    days = [(date(2024, 3, 1) + timedelta(days=i)).isoformat() for i in range(8)]
    hft = [r for d in days for r in _day(d, fast=5, layered=d in days[:2])]
    facts = orders.habits(Dataset(write_data(tmp_path, order_history=hft)), "T1", ["T1"], TRADE_DAY,
                          NullReporter()).facts
    assert facts["fast_cancel_style"] and len(facts["fast_cancel_episode_days"]) == 8
    assert facts["pattern_days"] == days[:2] == facts["layering_days"]
    occasional = [r for d in days for r in _day(d, fast=5 if d in days[2:4] else 0, layered=False)]
    facts = orders.habits(Dataset(write_data(tmp_path / "b", order_history=occasional)), "T1", ["T1"], TRADE_DAY,
                          NullReporter()).facts
    assert not facts["fast_cancel_style"] and facts["pattern_days"] == days[2:4]


def test_the_baseline_leaves_the_suspects_own_episodes_out(tmp_path):
    """SP-M4 "normal for this trader" must not be computed from the earlier spoofing itself."""
    days = [(date(2024, 3, 1) + timedelta(days=i)).isoformat() for i in range(3)]
    only_episodes = [r for d in days for r in _day(d, fast=0, layered=True) if "-L" in r[0] or "-S" in r[0]]
    ev = orders.habits(Dataset(write_data(tmp_path, order_history=only_episodes)), "T1", ["T1"], TRADE_DAY,
                       NullReporter())
    assert ev.facts["pattern_days"] == days and ev.facts["cancel_ratio_pct"] is None
    assert "too few for a baseline" in ev.gaps["window"]
    assert "SP-M4" not in fired("spoofing", spoofing_alert([("X", 0, "BUY", 1, 1.0, "PLACE", 0)]),
                                {"order_history": ev.facts})
