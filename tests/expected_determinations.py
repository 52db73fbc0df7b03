"""What each sample alert must come to with the offline analyst, and why.

The table is the product's acceptance test: a surveillance analyst reviewed each case's
data and agreed the expected determination. Keep it in step with test_data/ and README.
"""

EXPECTED = {
    # file: (determination, why)
    "insider_genuine_acme.xml": ("ESCALATE", "M&A analyst, 32x usual size, first Healthcare trade, 2 days before "
                                             "the takeover, no public news, 699k profit"),
    "insider_false_positive_nova.xml": ("CLOSE", "usual size in a usual name, earnings beat reported publicly, "
                                                 "five peers buying too"),
    "insider_ambiguous_bltc.xml": ("NEEDS_HUMAN_REVIEW", "research access, 3x size, but talks were reported by "
                                                         "Reuters two days before the trade"),
    "insider_backoffice_breach_orbt.xml": ("ESCALATE", "back-office employee barred from trading sold ahead of a "
                                                       "profit warning"),
    "insider_edge_no_history.xml": ("NEEDS_HUMAN_REVIEW", "trader has no trading history: no baseline"),
    "insider_edge_no_market_data.xml": ("NEEDS_HUMAN_REVIEW", "symbol has no market data: outcome unknown"),
    "insider_edge_empty_news.xml": ("CLOSE", "no news at all for the symbol, but usual size alongside peers"),
    "wash_genuine_gldx.xml": ("ESCALATE", "same beneficial owner, 330 ms apart, repeated on 4 days, 6% of volume"),
    "wash_false_positive_prsm.xml": ("CLOSE", "unrelated institutions matched on exchange 150 s apart, once"),
    "wash_ambiguous_trvl.xml": ("NEEDS_HUMAN_REVIEW", "exempt market-making/hedge books, but a repeated "
                                                      "sub-second pattern at 6% of volume"),
    "wash_linked_spouses_gldx.xml": ("NEEDS_HUMAN_REVIEW", "spouses' linked accounts, 41 s apart, first time"),
    "wash_edge_unknown_account.xml": ("NEEDS_HUMAN_REVIEW", "one account has no ownership record"),
    "spoofing_genuine_flux.xml": ("ESCALATE", "4 sell layers cancelled in 3 s around a buy fill, 3 earlier "
                                              "episodes"),
    "spoofing_false_positive_mnrl.xml": ("CLOSE", "registered market maker, quotes rested 100 s, normal cancel "
                                                  "rate"),
    "spoofing_ambiguous_krnl.xml": ("NEEDS_HUMAN_REVIEW", "one large bid cancelled after 8 s while selling, but "
                                                          "a high cancel rate is normal for the trader"),
}
