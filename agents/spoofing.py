"""Spoofing / layering specialist: orders placed without intent to execute, to move the price
for a trade on the other side (MAR Art. 12(1)(a), Annex I A(f), Reg. 2016/522 Annex II;
Dodd-Frank §747 / CEA 4c(a)(5)(C); FINRA 5210 .02).

Steps: who the trader is (a market maker quotes both sides legitimately); how the flagged
episode unfolded in the order book; whether the trader does this habitually; how large the
layers were against the day's volume.
"""

from __future__ import annotations

from agents.alerts import SpoofingAlert, moment_label
from agents.evidence import Citation, Evidence
from agents.investigation import ALERT, Guard, Rule, Specialist, ToolSpec, build_graph
from agents.text import plural
from agents.tools import market, orders, trader

NAME = "spoofing"
FAST_LIFETIME_S = 10.0
SLOW_LIFETIME_S = 60.0
HIGH_ANOMALY = 90


def indicators(alert: SpoofingAlert) -> Evidence:
    """The alert's own figure: the surveillance system's anomaly score."""
    score = alert.metadata.anomaly_score
    citations = ({"anomaly_score": Citation(source="alert", elements=("AlertMetadata/AnomalyScore",),
                                            note="the surveillance system's anomaly score")}
                 if score is not None else {})
    return Evidence(tool=ALERT, title="Surveillance indicators", facts={"anomaly_score": score}, citations=citations,
                    summary=f"Anomaly score {score if score is not None else 'not given'}.")


TOOLS = (
    ToolSpec("trader_profile", "Trader profile and role",
             lambda ds, a, r: trader.profile(ds, a.trader.trader_id, a.symbol, r), ("trader_profiles",)),
    ToolSpec("order_episode", "Order book episode",
             lambda ds, a, r: orders.episode(ds, a, r)),
    ToolSpec("order_history", "Cancellation habits over the past month",
             lambda ds, a, r: orders.habits(ds, a.trader.trader_id, orders.episode_facts(a, ds)[0]["accounts"],
                                            a.trade_date, r, episode=a), ("order_history",)),
    ToolSpec("volume_impact", "Layers against the day's volume",
             lambda ds, a, r: market.volume_share(ds, a.symbol, a.trade_date,
                                                  orders.episode_facts(a, ds)[0]["layered_quantity"], r),
             ("market_data",)),
)


def _fast_days(f: dict) -> str:
    days = len(f.get("fast_cancel_episode_days", []))
    if not days:
        return ""
    return (f"; orders cancelled within {orders.FAST_CANCEL_SECONDS:.0f} s on {plural(days, 'day')}"
            + (", the trader's style on most days, not counted" if f.get("fast_cancel_style") else ""))


def _paid_off(f: dict) -> bool:
    """The other side executed on the layers' effect: while they rested, or just after they were pulled."""
    return bool(f.get("executions_while_resting") or f.get("executions_after_pull"))


def _payoff(f: dict, a) -> str | None:
    parts = []
    if f.get("executions_while_resting"):
        parts.append(f"{plural(f['executions_while_resting'], 'execution')} on the opposite side while the layers "
                     "were in the book")
    if f.get("executions_after_pull"):
        parts.append(f"{plural(f['executions_after_pull'], 'execution')} of an opposite order placed while they "
                     f"rested, {f['seconds_after_pull']:.1f} s after a layer was pulled"
                     + (f" (the uncross of an auction — {f['auction_phase']})" if f.get("auction_phase") else ""))
    if not parts:
        return None
    return (f"{plural(f['opposite_executed_quantity'], 'share')} filled on the other side: " + "; ".join(parts) + ".")


def _genuine_rest(f: dict, a) -> str | None:
    """Resting time shows genuine intent only where the orders could execute and did not pay off: not in an auction
    (nothing executes before the uncross), not when the other side executed on their effect (FCA v. Da Vinci
    Invest: half a minute; SEC In re Briargate: minutes in the pre-open)."""
    if (f.get("median_layer_lifetime_s") or 0) <= SLOW_LIFETIME_S or f.get("auction_phase") or _paid_off(f):
        return None
    return f"Median layer lifetime {f['median_layer_lifetime_s']:.1f} s."  # 60.4 s is above 60 s: say so


RULES = (
    Rule("SP-R1", "red_flag", 25, "order_episode", "Layered orders on one side",
         lambda f, a: (f"{f['layers']} {f['layer_side']} orders at {f['layer_price_levels']} price levels, "
                       f"{f['layered_quantity']:,} shares in all, all cancelled unfilled."
                       if f.get("layers", 0) >= orders.LAYER_MIN and f.get("layer_price_levels", 0) >= 2 else None),
         cite=("orders",)),
    Rule("SP-R2", "red_flag", 20, "order_episode", "Large orders cancelled within seconds",
         lambda f, a: (f"Median layer lifetime {f['median_layer_lifetime_s']:.1f} s; layers were "
                       f"{f['layer_to_execution_ratio']}× the executed quantity."
                       if f.get("median_layer_lifetime_s") is not None
                       and f["median_layer_lifetime_s"] < FAST_LIFETIME_S
                       and (f.get("layer_to_execution_ratio") or 0) >= 3 else None), cite=("orders",)),
    Rule("SP-R3", "red_flag", 25, "order_episode", "Executed on the other side on the layers' effect", _payoff,
         cite=("orders",)),
    Rule("SP-R4", "red_flag", 10, "order_episode", "Almost everything placed was cancelled",
         lambda f, a: (f"{f['cancel_ratio_pct']}% of the quantity placed in the episode was cancelled."
                       if (f.get("cancel_ratio_pct") or 0) >= 90 else None), cite=("orders",)),
    Rule("SP-R5", "red_flag", 15, "order_history", "The pattern recurs",
         lambda f, a: (f"The episode's signature on {len(f['pattern_days'])} earlier occasions: "
                       f"{', '.join(f['pattern_days'])} (layers pulled around an execution on the other side on "
                       f"{plural(len(f['layering_days']), 'day')}" + _fast_days(f) + ")."
                       if len(f.get("pattern_days", [])) >= 2 else None),
         cite=("episodes",)),
    Rule("SP-R6", "red_flag", 10, "order_history", "Far above the trader's usual cancellation rate",
         lambda f, a: (f"Baseline cancel ratio {f['cancel_ratio_pct']}% over {f['orders_placed']} orders."
                       if f.get("cancel_ratio_pct") is not None and f["cancel_ratio_pct"] < 50 else None),
         cite=("window",)),
    Rule("SP-M1", "mitigating", -30, "trader_profile", "Registered market maker quoting both sides",
         lambda f, a: (f"{f['role']} in {f['department']}." if f.get("market_maker") else None), cite=("profile",)),
    Rule("SP-M2", "mitigating", -20, "order_episode", "Orders rested long enough to be genuine", _genuine_rest,
         cite=("orders",)),
    Rule("SP-M3", "mitigating", -15, "order_episode", "No execution on the other side",
         lambda f, a: ("Nothing was executed on the opposite side during the episode."
                       if f.get("layers") and not f.get("opposite_executed_quantity") else None), cite=("orders",)),
    Rule("SP-R8", "red_flag", 5, ALERT, "Highly anomalous for the surveillance system",
         lambda f, a: (f"Anomaly score {f['anomaly_score']:.0f} (≥ {HIGH_ANOMALY})."
                       if (f.get("anomaly_score") or 0) >= HIGH_ANOMALY else None), cite=("anomaly_score",)),
    Rule("SP-M5", "mitigating", -30, "order_episode", "Two-sided quoting, filled on both sides",
         lambda f, a: (f"Orders on both sides ({f['placed_by_side']['BUY']:,} bid, {f['placed_by_side']['SELL']:,} "
                       f"offered) and fills on both ({f['filled_by_side']['BUY']:,} bought, "
                       f"{f['filled_by_side']['SELL']:,} sold): quoting, not layering one side."
                       if f.get("balanced_two_sided") and f.get("fills_both_sides") else None), cite=("orders",)),
    Rule("SP-M6", "mitigating", -25, "order_episode", "Agency execution working one side",
         lambda f, a: (f"{(f.other('trader_profile') or {}).get('role')} in "
                       f"{(f.other('trader_profile') or {}).get('department')}: every order of the episode is a "
                       f"{f['layer_side'] or 'one-sided'} order and nothing was executed on the other side — an "
                       "execution algorithm re-pricing child orders."
                       if f.get("one_sided") and not f.get("opposite_executed_quantity")
                       and (f.other("trader_profile") or {}).get("agency_execution") else None),
         cite=("orders", "trader_profile:profile")),
    Rule("SP-M4", "mitigating", -10, "order_history", "Cancellation rate normal for this trader",
         lambda f, a: (f"Baseline cancel ratio {f['cancel_ratio_pct']}% (order-to-trade "
                       f"{f['order_to_trade_ratio']})." if (f.get("cancel_ratio_pct") or 0) >= 80 else None),
         cite=("window",)),
)


GUARDS = (
    Guard("SP-G1", "layers pulled around an execution on the other side", requires=("SP-R1", "SP-R3"),
          explained_by=("SP-M5",)),
)


def describe(alert: SpoofingAlert, evidence: dict[str, Evidence]) -> str:
    who = alert.trader
    first, last = alert.orders[0].timestamp, alert.orders[-1].timestamp
    named = f"{who.name} ({who.trader_id})" if who.name else f"Trader {who.trader_id}"
    return (f"{named} sent {plural(len(alert.orders), 'order event')} in "
            f"{alert.symbol} on {alert.trade_date} between {first.time().isoformat(timespec='milliseconds')} and "
            f"{last.time().isoformat(timespec='milliseconds')}.")


def stor_fields(alert: SpoofingAlert, evidence: dict[str, Evidence]) -> dict:
    who = alert.trader
    listing, ccy = alert.listing, f" {alert.listing.currency}" if alert.listing.currency else ""
    return {
        "instrument": alert.symbol, "isin": listing.isin, "venue": listing.venue, "currency": listing.currency,
        "accounts": list(dict.fromkeys(o.account_id for o in alert.orders)),
        "suspected_persons": [f"{who.name or 'Name not given'} (trader ID {who.trader_id})"
                              + (f", {who.department}" if who.department else "")],
        "transactions": [f"{moment_label(o.timestamp)} {o.action} {o.order_id} {o.side} {o.quantity:,} @ "
                         f"{o.price:,.2f}{ccy}" for o in alert.orders],
    }


SPECIALIST = Specialist(
    name=NAME, label="Spoofing / layering", tools=TOOLS, rules=RULES,
    key_tools=frozenset({"trader_profile", "order_episode"}),
    describe=describe, stor_fields=stor_fields,
    suspicion="Market manipulation: spoofing / layering (MAR Art. 12(1)(a), Annex I A(f))",
    regulations=("EU MAR Art. 12, Annex I A(f)", "Delegated Reg. (EU) 2016/522 Annex II", "FINRA Rule 5210 .02",
                 "CEA §4c(a)(5)(C)"),
    guards=GUARDS, alert_indicators=indicators,
)
GRAPH = build_graph(SPECIALIST)
