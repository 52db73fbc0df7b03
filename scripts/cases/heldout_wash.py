"""Held-out set 1, wash trades (see heldout_insider.py for what the held-out set was and why)."""

from __future__ import annotations

from datetime import timedelta

from cases import alerts
from cases.common import CLOSE, ESCALATE, REVIEW, Case, check_weekday
from cases.wash import KIND, _legs, _world
from cases.world import World, day


def _case(name, category, modelled_on, rationale, acceptable, w, symbol, trade, legs, *, daily_volume, score,
          severity="HIGH", notes=()):
    check_weekday(trade)
    alert_id = f"WT-{trade:%Y%m%d}-{sum(map(ord, name)) % 1000:03d}"
    xml = alerts.wash(alert_id, symbol, trade, legs, daily_volume=daily_volume, score=score, severity=severity,
                      notes=notes)
    return Case(name, KIND, category, modelled_on, rationale, tuple(acceptable), w, xml)


def _retail_flow(w: World, account: str, symbol: str, days: list[str], price: float) -> None:
    """A retail client's ordinary trades against the market."""
    for d in days:
        side = w.rng.choice(["BUY", "SELL"])
        clock = f"{w.rng.randrange(9, 16):02d}:{w.rng.randrange(60):02d}:{w.rng.randrange(60):02d}.000"
        w.account_trade(account, day(d), clock, symbol, side, w.rng.randrange(100, 1_500, 100),
                        price * w.rng.uniform(0.97, 1.03))


# --------------------------------------------------------------------------- enforcement-modelled

def unlinked_accounts_prearranged() -> Case:
    name, sym, trade = "heldout_wash_unlinked_accounts_prearranged", "TRNX", day("2024-05-22")
    w = _world(name, sym, trade, 0.62, 2_400_000)
    w.account("ACC-7101", "BO-711", "Lin Wei", "individual", [], "direct")
    w.account("ACC-7102", "BO-712", "Zhou Ming", "individual", [], "direct")
    history = (("2024-04-24", "10:02:11.300", 180_000, 0.58, 60), ("2024-04-26", "13:45:02.100", 240_000, 0.59, 140),
               ("2024-04-30", "09:58:40.000", 150_000, 0.60, 90), ("2024-05-03", "15:10:05.500", 210_000, 0.60, 45),
               ("2024-05-08", "11:31:19.900", 200_000, 0.61, 180), ("2024-05-10", "14:02:00.250", 160_000, 0.61, 75),
               ("2024-05-15", "10:47:33.000", 230_000, 0.62, 120), ("2024-05-20", "12:20:12.600", 190_000, 0.62, 55))
    for i, (d, clock, qty, price, gap) in enumerate(history):
        buyer, seller = ("ACC-7101", "ACC-7102") if i % 2 == 0 else ("ACC-7102", "ACC-7101")
        w.cross(buyer, seller, sym, day(d), clock, qty, price, gap)
    w.cross("ACC-7102", "ACC-7101", sym, trade, "11:15:42.010", 200_000, 0.62, 90)
    return _case(name, "enforcement",
                 "SEC v. Justin Sun et al. (S.D.N.Y., 2023): hundreds of thousands of wash trades of crypto asset "
                 "securities between accounts he controlled, some held in other people's names",
                 "Two individual accounts that the relationship file records as unrelated, with no link, trade "
                 "200,000 units against each other 90 ms apart at the same price — the ninth time in a month, "
                 "always between these two accounts, always within a fraction of a second, alternating who buys, so "
                 "that neither ends with a position. Strangers do not meet on an order book nine times at the same "
                 "instant: 'no recorded link' is missing data about the owners, and the pattern is the evidence of "
                 "pre-arrangement (CFTC and SEC: pre-arranged trades between nominally independent accounts).",
                 (ESCALATE, REVIEW), w, sym, trade,
                 _legs("ACC-7102", "Zhou Ming", "ACC-7101", "Lin Wei", "11:15:42.010", "11:15:42.100", 200_000, 0.62),
                 daily_volume=2_400_000, score=90)


def own_accounts_price_ramp() -> Case:
    name, sym, trade = "heldout_wash_own_accounts_price_ramp", "MNGX", day("2024-10-11")
    w = World(name)
    w.market(sym, trade - timedelta(days=40), trade - timedelta(days=1), 1.18, volume=300_000)
    w.rows["market_data.csv"].append([sym, trade.isoformat(), 1.19, 2.20, 1.18, 2.05, 1_100_000, 16.4])
    w.market(sym, trade + timedelta(days=1), trade + timedelta(days=5), 2.05, volume=400_000,
             moves={trade + timedelta(days=3): -0.45})
    w.account("ACC-7201", "BO-72", "Arlo Eskin", "individual", ["ACC-7202"], "direct")
    w.account("ACC-7202", "BO-72", "Arlo Eskin", "corporate", ["ACC-7201"], "owner")
    ramp = ((1.22, "10:00:05.000"), (1.35, "10:03:40.000"), (1.52, "10:07:12.000"), (1.70, "10:11:01.000"),
            (1.91, "10:14:30.000"), (2.14, "10:18:55.000"))
    for price, clock in ramp:
        w.cross("ACC-7201", "ACC-7202", sym, trade, clock, 80_000, price, 2_100)
    return _case(name, "enforcement",
                 "United States v. Avraham Eisenberg and CFTC v. Eisenberg (S.D.N.Y., 2023; jury verdict 2024, "
                 "later set aside on venue and fraud grounds): the trader bought from himself, between two accounts "
                 "he controlled, at escalating prices to push the market price up (Mango Markets)",
                 "An individual and a company he owns trade 80,000 units against each other six times in nineteen "
                 "minutes, the company always selling to him, each time at a higher price (1.22 to 2.14, +75%); the "
                 "day's volume is almost four times normal and the six trades are 44% of it; the price gives most of "
                 "it back three days later. The flagged pair is the fifth, legs 2.1 s apart. Noise: only one day, so "
                 "no pattern over the month, and each cross is one-directional, so the pair is not flat. Same "
                 "beneficial owner, a price ramp: escalate.",
                 (ESCALATE, REVIEW), w, sym, trade,
                 _legs("ACC-7201", "Arlo Eskin", "ACC-7202", "Eskin Ventures Ltd", "10:14:30.000", "10:14:32.100",
                       80_000, 1.91), daily_volume=1_100_000, score=96)


# --------------------------------------------------------------------------- false-positive controls

def internaliser_retail_match() -> Case:
    name, sym, trade = "heldout_wash_internaliser_retail_match", "ATLS", day("2024-06-26")
    w = _world(name, sym, trade, 7.84, 3_200_000)
    w.account("ACC-7401", "BO-741", "Joseph Okafor", "individual", [], "direct")
    w.account("ACC-7402", "BO-742", "Petra Lindqvist", "individual", [], "direct")
    _retail_flow(w, "ACC-7401", sym, ["2024-06-03", "2024-06-11", "2024-06-19"], 7.8)
    _retail_flow(w, "ACC-7402", sym, ["2024-05-30", "2024-06-14"], 7.8)
    return _case(name, "control",
                 "Typical false positive: two unrelated retail clients of one broker matched by its systematic "
                 "internaliser at the same price within milliseconds (ownership changes; the match is the broker's "
                 "routing, not the clients' arrangement)",
                 "Two unrelated retail clients, with no link and no history of trading with each other, bought and "
                 "sold 500 shares 38 ms apart at one price through the broker's internaliser: 0.02% of the day's "
                 "volume. The timing and the matched price are the internaliser's, not theirs.",
                 (CLOSE,), w, sym, trade,
                 _legs("ACC-7401", "Joseph Okafor", "ACC-7402", "Petra Lindqvist", "13:22:07.412", "13:22:07.450",
                       500, 7.84), daily_volume=3_200_000, score=55, severity="LOW")


def error_account_correction() -> Case:
    name, sym, trade = "heldout_wash_error_account_correction", "BRDG", day("2024-03-27")
    w = _world(name, sym, trade, 112.40, 1_500_000)
    w.account("ACC-7501", "BO-751", "Fenwick Securities Ltd", "error_account", [], "house")
    w.account("ACC-7502", "BO-752", "Alder Pension Scheme", "pension_fund", [], "direct")
    w.account_trade("ACC-7501", trade, "10:12:33.000", sym, "BUY", 12_000, 112.40)
    return _case(name, "control",
                 "Typical false positive: a broker's trade correction — a client's execution booked by mistake to the "
                 "broker's error account and transferred to the client after the close at the execution price",
                 "The broker bought 12,000 shares on the market at 10:12 for a pension scheme, booked them to its "
                 "error account by mistake, and after the close transferred them to the client at the same price. "
                 "The flagged 'pair' is a booking, not a market print; the owners are unrelated; it happened once.",
                 (CLOSE,), w, sym, trade,
                 _legs("ACC-7502", "Alder Pension Scheme", "ACC-7501", "Fenwick Securities Error Account",
                       "16:48:00.000", "16:48:00.000", 12_000, 112.40), daily_volume=1_500_000, score=64,
                 severity="MEDIUM")


# --------------------------------------------------------------------------- ambiguous

def bed_and_isa_transfer() -> Case:
    name, sym, trade = "heldout_wash_bed_and_isa_transfer", "GWRX", day("2024-04-03")
    w = _world(name, sym, trade, 24.16, 900_000)
    w.account("ACC-7301", "BO-731", "Margaret Ellison", "general_investment_account", ["ACC-7302"], "direct")
    w.account("ACC-7302", "BO-731", "Margaret Ellison", "isa", ["ACC-7301"], "direct")
    w.cross("ACC-7302", "ACC-7301", sym, day("2023-04-04"), "09:20:00.000", 1_650, 22.80, 0)
    return _case(name, "ambiguous",
                 "Typical false positive in UK retail brokerage: a 'Bed & ISA' — the client sells shares in her "
                 "taxable account and buys them back in her ISA at the same price, days before the tax year ends "
                 "(a tax-wrapper transfer, not a signal to the market)",
                 "The same client on both sides, 1,800 shares at one price in the same second, 0.2% of the day's "
                 "volume, two days before the UK tax year ends; the only earlier cross between the accounts was a "
                 "year ago, at the same time of year. The broker's note says Bed & ISA on client instruction, but "
                 "notes are context, not evidence. A reviewer closes it on the broker's record; sending it to a human "
                 "because one owner is on both sides is also defensible.",
                 (CLOSE, REVIEW), w, sym, trade,
                 _legs("ACC-7302", "M Ellison Stocks & Shares ISA", "ACC-7301", "M Ellison General Account",
                       "09:14:02.000", "09:14:02.000", 1_800, 24.16), daily_volume=900_000, score=66, severity="MEDIUM",
                 notes=["Executed as Bed & ISA on client instruction (broker note)"])


def custodian_nominee_omnibus() -> Case:
    name, sym, trade = "heldout_wash_custodian_nominee_omnibus", "SLVR", day("2024-11-20")
    w = _world(name, sym, trade, 55.20, 4_800_000)
    w.account("ACC-7601", "BO-761", "Harbour Custody Nominees Ltd", "omnibus", [], "nominee")
    w.account("ACC-7602", "BO-761", "Harbour Custody Nominees Ltd", "omnibus", [], "nominee")
    for d, clock, qty, price, gap in (("2024-10-29", "10:40:00.000", 3_200, 54.10, 1_800),
                                      ("2024-11-05", "14:12:30.000", 7_500, 54.60, 4_200),
                                      ("2024-11-12", "11:05:10.000", 2_000, 55.00, 900),
                                      ("2024-11-15", "15:20:45.000", 12_000, 55.30, 2_600)):
        w.cross("ACC-7601", "ACC-7602", sym, day(d), clock, qty, price, gap)
    return _case(name, "ambiguous",
                 "Typical data problem: two omnibus accounts of one custodian whose ownership record names the "
                 "custodian's nominee company, not the clients behind it (FINRA 6140(b) and MAR Annex I A(a) turn on "
                 "beneficial ownership, which a nominee registration does not show)",
                 "Two omnibus accounts registered to the same custodian nominee matched 10,000 shares 2.4 s apart "
                 "at one price, 0.2% of the day's volume; the same two accounts matched on four other days this "
                 "month with varying sizes, as two large omnibus accounts will. The relationship file puts the "
                 "nominee in the beneficial-owner column: the real owners on each side are unknown. A human must "
                 "look through to the underlying clients; neither escalating a custodian nor closing is supported "
                 "by the data.",
                 (REVIEW,), w, sym, trade,
                 _legs("ACC-7601", "Harbour Custody Omnibus A", "ACC-7602", "Harbour Custody Omnibus B",
                       "13:31:10.000", "13:31:12.400", 10_000, 55.20), daily_volume=4_800_000, score=71,
                 severity="MEDIUM")


CASES = (unlinked_accounts_prearranged, own_accounts_price_ramp, internaliser_retail_match, error_account_correction,
         bed_and_isa_transfer, custodian_nominee_omnibus)
