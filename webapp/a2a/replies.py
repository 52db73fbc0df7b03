"""The agent's answer to a message that is not an alert: what it accepts, with an example.

The card advertises text/plain input, so a client (or a person behind one) may write a sentence
instead of attaching an export. That is not a malformed request (-32602) but a conversation: the
reply is a Message — no task is created — saying what to send, with an alert it would accept.
"""

from __future__ import annotations

import uuid

from a2a.types import a2a_pb2 as pb
from google.protobuf import json_format

from webapp.a2a.agents import A2AAgent

# One alert each agent would accept, smallest first: the required elements only.
EXAMPLES = {
    "insider_dealing": """<SMARTSAlert>
  <AlertID>EX-0001</AlertID>
  <AlertType>Pre-Announcement Trading</AlertType>
  <Trader><TraderID>T001</TraderID><Name>Example Trader</Name></Trader>
  <SuspiciousActivity>
    <Symbol>ACME</Symbol><TradeDate>2024-03-13</TradeDate><Side>BUY</Side>
    <Quantity>1000</Quantity><Price>50.00</Price>
  </SuspiciousActivity>
</SMARTSAlert>
""",
    "wash_trade": """<SmartsAlert>
  <AlertMetadata><AlertID>EX-0002</AlertID><AlertType>WashTrade</AlertType></AlertMetadata>
  <FlaggedTrades>
    <Trade sequence="1"><AccountID>ACC-1</AccountID><TradeDate>2024-06-12</TradeDate><Symbol>GLDX</Symbol>
      <Side>BUY</Side><Quantity>100</Quantity><Price>18.40</Price></Trade>
    <Trade sequence="2"><AccountID>ACC-2</AccountID><TradeDate>2024-06-12</TradeDate><Symbol>GLDX</Symbol>
      <Side>SELL</Side><Quantity>100</Quantity><Price>18.40</Price></Trade>
  </FlaggedTrades>
</SmartsAlert>
""",
    "spoofing": """<SmartsAlert>
  <AlertMetadata><AlertID>EX-0003</AlertID><AlertType>Layering</AlertType></AlertMetadata>
  <Trader><TraderID>T020</TraderID></Trader>
  <OrderActivity>
    <Symbol>FLUX</Symbol><TradeDate>2024-07-09</TradeDate>
    <Order><OrderID>S-1</OrderID><Timestamp>2024-07-09T10:31:00</Timestamp><Side>SELL</Side>
      <Quantity>30000</Quantity><Price>41.20</Price><Action>PLACE</Action></Order>
  </OrderActivity>
</SmartsAlert>
""",
}


class NotAnAlert(Exception):
    """The message carries text, but no alert XML."""


def shapes(agent: A2AAgent) -> str:
    kinds = {str(kind) for kind in agent.kinds}
    found = []
    if "insider_dealing" in kinds:
        found.append("insider dealing (root <SMARTSAlert>, e.g. AlertType 'Pre-Announcement Trading')")
    if "wash_trade" in kinds:
        found.append("wash trades (root <SmartsAlert>, AlertType 'WashTrade')")
    if "spoofing" in kinds:
        found.append("spoofing and layering (root <SmartsAlert>, AlertType 'Spoofing' or 'Layering')")
    return "; ".join(found)


def not_an_alert(agent: A2AAgent, message: pb.Message) -> dict:
    """The reply Message, as JSON (the ``message`` member of a SendMessage result)."""
    text = (f"I am the {agent.name}: I investigate trade-surveillance alerts exported by SMARTS and return a "
            f"determination (ESCALATE, CLOSE or NEEDS_HUMAN_REVIEW) with the evidence. Your message has no alert "
            f"in it. Send the alert's XML export as a part — raw bytes with media type application/xml, or the "
            f"XML as text — for {shapes(agent)}. For example:")
    reply = pb.Message(message_id=uuid.uuid4().hex, context_id=message.context_id or uuid.uuid4().hex,
                       role=pb.ROLE_AGENT)
    reply.parts.append(pb.Part(text=text, media_type="text/plain"))
    kind = next(kind for kind in EXAMPLES if kind in {str(k) for k in agent.kinds})
    reply.parts.append(pb.Part(text=EXAMPLES[kind], media_type="application/xml", filename="example-alert.xml"))
    return json_format.MessageToDict(reply)
