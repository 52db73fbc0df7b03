"""The LLM analyst: a model weighs the evidence, through any OpenAI-compatible endpoint.

One call does both jobs. The model is asked to write its assessment for the analyst in
prose and then to call the ``SubmitDetermination`` function, whose pydantic schema is the
structured decision. While someone follows the run, the call is streamed and the prose goes
into the timeline as it arrives, throttled. Otherwise it is one ordinary call, and the prose
is logged in one piece when the answer comes: a streamed answer costs CPU for every chunk
(hundreds for a real model), which is wasted when nobody watches, as most runs in a busy
deployment are not watched. Each attempt asks again, so someone who starts following during
a retry sees the next attempt live.
Function-calling output is validated with pydantic; every citation must name evidence that
exists (``tool:key``). Citations that do not exist are dropped and the drop is noted; a
decision left with no valid citation is invalid.

The model's CLOSE passes through the same guards as the offline rules' (a documented cluster of
red flags that must be explained, not outweighed): while one stands, the case becomes
NEEDS_HUMAN_REVIEW and the decision names the guard.

Every attempt is booked with the model's rate limit first (agents/llm_limit.py; shared by all
workers and instances when the web app passes one in) and waits its turn, so that many runs at
once stay under the endpoint's requests and tokens per minute instead of meeting 429s.

The prompt, with the alert's own text as marked, untrusted data, and the decision's schema are in
agents/llm_prompt.py. A daily token budget (webapp/llm_budget.py) is reserved before each call
and settled with the reported usage; a call past it is not made.

Transient failures (429, 5xx, timeouts, connection errors) are retried with exponential
backoff by tenacity, honouring a short ``Retry-After``; the client's own retries are off so
there is one policy. When the model cannot be reached or its output is invalid, the result
is NEEDS_HUMAN_REVIEW with the reason, the offline rules' findings shown for review, and the
offline rules' own determination named — never a silent guess.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import time

import httpx
import openai
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.ai import add_ai_message_chunks
from langchain_openai import ChatOpenAI
from pydantic import ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from agents.analyst import stor_draft
from agents.analyst_offline import OfflineAnalyst
from agents.decision import Decision, Determination, Finding
from agents.events import EventType
from agents.investigation import Case
from agents.limits import hold_to_limits
from agents.llm_limit import RateLimit, Unlimited, estimate_tokens
from agents.llm_prompt import SubmitDetermination, build_messages
from agents.progress import NullReporter, StepReporter, current_writer, progress_event, someone_watching
from agents.text import plural

log = logging.getLogger(__name__)

TOKEN_INTERVAL = 0.25   # at most four analyst_token events a second
MAX_RETRY_AFTER = 30.0
EXPECTED_COMPLETION_TOKENS = 800  # booked with the rate limit before the answer says what it used
ANSWER_ALLOWANCE = 2_000  # tokens reserved for the answer, on top of the prompt, until the usage is known


class InvalidOutput(ValueError):
    pass


class ModelUnavailable(RuntimeError):
    """The endpoint could not give an answer; the message says why and after how many attempts."""


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, openai.APITimeoutError | openai.APIConnectionError | httpx.TransportError)


def _wait(state: RetryCallState) -> float:
    """Exponential backoff, or the server's Retry-After when it is short."""
    exc = state.outcome.exception() if state.outcome else None
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            retry_after = float(response.headers.get("retry-after", ""))
            if 0 <= retry_after <= MAX_RETRY_AFTER:
                return retry_after
        except ValueError:
            pass
    return wait_exponential(multiplier=0.5, max=8)(state)


class _TokenStream:
    """Emits the model's text as analyst_token events, at most one per TOKEN_INTERVAL.

    While text streams in (:meth:`live`), a flusher (a greenlet under gevent) sends what
    accumulated every interval, so text is never held back when the model pauses. LangGraph's
    writer reads its config from context variables when called, so the flusher runs in a copy
    of the node's context (entered by one thread at a time: the flusher, then, after it
    stopped, the final flush). Text added otherwise goes out in one piece at :meth:`close`.
    """

    def __init__(self, case: Case):
        self.step_id = case.specialist.step_id("analyst")
        self.agent = case.specialist.name
        self.writer = current_writer()
        self.context = contextvars.copy_context()
        self.pending = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    def live(self) -> None:
        """From now on, send text as it arrives."""
        if self._flusher is None:
            self._flusher = threading.Thread(target=self._run, name="analyst-tokens", daemon=True)
            self._flusher.start()

    def add(self, text: str) -> None:
        with self._lock:
            self.pending += text

    def _run(self) -> None:
        while not self._stop.wait(TOKEN_INTERVAL):
            self.context.run(self._flush)

    def _flush(self) -> None:
        with self._lock:
            text, self.pending = self.pending, ""
        if text:
            self.writer(progress_event(EventType.ANALYST_TOKEN, step_id=self.step_id, agent=self.agent,
                                       tool="analyst", text=text))

    def close(self) -> None:
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join()
        self.context.run(self._flush)


class LLMAnalyst:
    """An OpenAI-compatible model as analyst; see the module docstring."""

    def __init__(self, model: str, *, api_key: str, base_url: str | None = None, timeout: float = 60.0,
                 max_attempts: int = 3, reporting_firm: str = "[Reporting firm]", rate_limit: RateLimit | None = None,
                 budget=None):
        self.model = model
        self.name = model
        self.max_attempts = max(1, max_attempts)
        self.reporting_firm = reporting_firm
        self.rate_limit = rate_limit or Unlimited()
        self.budget = budget  # reserve(tokens) -> bool, settle(reserved, used), describe() (webapp/llm_budget.py)
        # Not ``streaming=True``: .stream() streams regardless, and .invoke() stays one plain call.
        # stream_usage: a streamed answer reports its tokens too, for the rate limit's correction and the budget.
        chat = ChatOpenAI(model=model, api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0,
                          temperature=0, stream_usage=True)
        self.llm = chat.bind_tools([SubmitDetermination], tool_choice="auto")

    @classmethod
    def from_settings(cls, settings, rate_limit: RateLimit | None = None, budget=None) -> LLMAnalyst:
        return cls(settings.openai_model, api_key=settings.openai_api_key, base_url=settings.openai_base_url,
                   timeout=settings.llm_timeout, max_attempts=settings.llm_max_retries,
                   reporting_firm=settings.reporting_firm, rate_limit=rate_limit, budget=budget)

    def decide(self, case: Case, reporter: StepReporter) -> Decision:
        offline = OfflineAnalyst(self.reporting_firm).decide(case, NullReporter())
        messages = build_messages(case, offline)
        reserved = estimate_tokens("".join(str(m.content) for m in messages), ANSWER_ALLOWANCE)
        refused = self._over_budget(reserved)
        if refused:
            log.warning("LLM analyst %s not asked: %s", self.model, refused)
            return self._fallback(case, offline, refused)
        tokens = _TokenStream(case)
        try:
            message = self._call(messages, tokens, reporter)
            self._settle(reserved, message)
            decision, dropped = self._decision(case, _parse(message))
        except ModelUnavailable as exc:
            log.warning("LLM analyst %s failed: %s", self.model, exc)
            return self._fallback(case, offline, f"The LLM analyst ({self.model}) failed: {exc}.")
        except InvalidOutput as exc:
            log.warning("LLM analyst %s gave invalid output: %s", self.model, exc)
            return self._fallback(case, offline, f"The LLM analyst ({self.model}) gave an invalid answer: {exc}.")
        reporter.progress("Validated the model's determination and citations", step=2)
        notes = []
        if dropped:
            notes.append(f"{plural(len(dropped), 'citation')} named evidence that does not exist and "
                         f"{'was' if len(dropped) == 1 else 'were'} dropped: {', '.join(dropped[:5])}.")
        decision, limited = hold_to_limits(case, offline.findings, decision)
        notes += limited
        decision.analyst_note = " ".join(notes) or None
        return decision

    def _over_budget(self, tokens: int) -> str | None:
        """Why the model may not be asked (the day's budget is spent, or cannot be checked), else None."""
        if self.budget is None:
            return None
        try:
            if self.budget.reserve(tokens):
                return None
        except Exception as exc:  # the budget's store is unreachable: no unaccounted paid calls
            return f"The LLM analyst ({self.model}) was not asked: its daily token budget could not be checked " \
                   f"({exc.__class__.__name__})."
        return f"The LLM analyst ({self.model}) was not asked: its daily token budget ({self.budget.describe()}) " \
               "is spent; it renews at midnight UTC."

    def _settle(self, reserved: int, message: AIMessage) -> None:
        """Replace the reservation by the usage the endpoint reported (kept as it is when none was)."""
        usage = getattr(message, "usage_metadata", None) or {}
        if self.budget is not None and usage.get("total_tokens"):
            try:
                self.budget.settle(reserved, int(usage["total_tokens"]))
            except Exception as exc:  # the reservation stands: the budget errs on the side of less spending
                log.warning("could not settle the token budget: %s", exc)

    def _call(self, messages: list, tokens: _TokenStream, reporter: StepReporter) -> AIMessage:
        """The call, booked with the rate limit and retried on transient errors; all text is
        flushed before it returns."""
        attempts = 0
        booked = estimate_tokens("".join(str(m.content) for m in messages), EXPECTED_COMPLETION_TOKENS)
        try:
            for attempt in Retrying(stop=stop_after_attempt(self.max_attempts), wait=_wait, reraise=True,
                                    retry=retry_if_exception(_transient)):
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    wait = self.rate_limit.reserve(booked)
                    if attempts == 1:
                        reporter.progress(f"Asking {self.model} to weigh the evidence" + (
                            f" in {wait:.1f} s, its turn under the model's shared rate limit" if wait >= 0.1
                            else ""), total=2)
                    else:
                        tokens.add(f"\n[attempt {attempts} after a transient error]\n")
                    time.sleep(wait)  # cooperative under gevent; a cancel interrupts it
                    time.sleep(self.rate_limit.ready())
                    if someone_watching():
                        tokens.live()
                        message = self._stream(messages, tokens)
                    else:
                        message = self._whole(messages, tokens)
                    used = (message.usage_metadata or {}).get("total_tokens")
                    if used:
                        self.rate_limit.settle(booked, used)
                    return message
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            raise ModelUnavailable(_describe_failure(exc, attempts)) from exc
        finally:
            tokens.close()
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def _whole(self, messages: list, tokens: _TokenStream) -> AIMessage:
        """One non-streamed call, for a run nobody follows; its text is logged all at once."""
        message = self.llm.invoke(messages)
        if isinstance(message.content, str):
            tokens.add(message.content)
        return message

    def _stream(self, messages: list, tokens: _TokenStream) -> AIMessageChunk:
        chunks: list[AIMessageChunk] = []
        wrote_prose = False
        for chunk in self.llm.stream(messages):
            chunks.append(chunk)
            if isinstance(chunk.content, str) and chunk.content:
                tokens.add(chunk.content)
                wrote_prose = True
            elif not wrote_prose:  # a model that only calls the function: show its arguments arriving
                tokens.add("".join(call.get("args") or "" for call in chunk.tool_call_chunks or ()))
        if not chunks:
            raise InvalidOutput("the response was empty")
        # Merged once: adding chunks one by one re-parses the partial tool-call JSON every time.
        return add_ai_message_chunks(chunks[0], *chunks[1:])

    def _decision(self, case: Case, out: SubmitDetermination) -> tuple[Decision, list[str]]:
        findings, dropped, evidence = [], [], case.all_evidence
        for f in out.findings:
            citations = []
            for ref in f.citations:
                tool, _, key = ref.partition(":")
                ev = evidence.get(tool)
                if ev is not None and key in ev.citations:
                    citations.append(ev.citations[key])
                else:
                    dropped.append(ref)
            findings.append(Finding(kind=f.kind, title=f.title, detail=f.detail, tool=f.tool,
                                    citations=tuple(citations)))
        if not any(f.citations for f in findings):
            raise InvalidOutput("no finding cites evidence that exists")
        gaps = [f for f in case.findings_from_rules() if f.kind == "data_gap"]
        determination = Determination(out.determination)
        red = [f for f in findings if f.kind == "red_flag"]
        return Decision(
            alert_id=case.alert.alert_id, alert_kind=case.specialist.name, determination=determination,
            confidence=out.confidence, summary=out.summary, rationale=out.rationale, findings=findings + gaps,
            analyst=self.model, confidence_note="The model's own confidence in its determination, from 0 to 100.",
            disposition_reason=(out.disposition_reason or "False positive: " + out.summary)
            if determination is Determination.CLOSE else None,
            stor=stor_draft(case, red, out.summary, self.reporting_firm)
            if determination is Determination.ESCALATE else None,
        ), dropped

    def _fallback(self, case: Case, offline: Decision, reason: str) -> Decision:
        return Decision(
            alert_id=case.alert.alert_id, alert_kind=case.specialist.name,
            determination=Determination.NEEDS_HUMAN_REVIEW, confidence=0,
            summary=f"No model determination — review by hand. The offline rules reach {offline.determination.value}.",
            rationale=(f"{reason} The case needs an analyst's review. For reference, the documented offline rules "
                       f"reach {offline.determination.value} with confidence {offline.confidence} (net score "
                       f"{offline.score:+d}); their findings are listed below.\n\n{offline.rationale}"),
            findings=offline.findings, analyst=f"{self.model} (failed; offline rules shown)", analyst_note=reason,
            score=offline.score, thresholds=offline.thresholds,
            confidence_note="0: no model determination was made; the offline rules' score is shown for reference.",
        )


def _parse(message: AIMessage) -> SubmitDetermination:
    """The structured decision from the function call (or, leniently, a JSON object in the text)."""
    calls = [c for c in message.tool_calls if c.get("name") == SubmitDetermination.__name__]
    if calls:
        candidate = calls[0]["args"]
    else:
        text = message.content if isinstance(message.content, str) else ""
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise InvalidOutput("the model did not call SubmitDetermination")
        try:
            candidate = json.loads(text[start:end + 1])
        except json.JSONDecodeError:
            raise InvalidOutput("the model did not call SubmitDetermination and its text is not JSON") from None
    try:
        return SubmitDetermination.model_validate(candidate)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "decision"
        raise InvalidOutput(f"{where}: {first['msg']}") from None


def _describe_failure(exc: BaseException, attempts: int) -> str:
    tries = f"{attempts} attempt{'' if attempts == 1 else 's'}"
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return f"timed out after {tries}"
    if isinstance(exc, openai.APIStatusError):
        return f"the endpoint answered HTTP {exc.status_code} after {tries}"
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return f"could not connect after {tries}"
    return f"{exc.__class__.__name__}: {exc}"
