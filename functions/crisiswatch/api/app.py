"""Routes of the incidents API. Every failure a caller can cause is a 4xx with a reason.

Every route declares its answers (`responses`): the OpenAPI document (`app.get_openapi_json_schema()`)
is what the fuzz suite (tests/integration/test_api_fuzz.py) generates requests from and checks
responses against. Bodies pass `crisiswatch.api.body.read_body` first (size, nesting, numbers,
Unicode; crisiswatch.limits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from crisiswatch import limits
from crisiswatch.api.body import read_body
from crisiswatch.escalation.clocks import ClockDurations
from crisiswatch.escalation.response import ResponseDesk
from crisiswatch.incidents.record import Incident, TimelineEvent
from crisiswatch.incidents.timeline import MAX_CURSOR_CHARS
from crisiswatch.observability import count_now
from crisiswatch.ports import (
    Clock,
    EscalationWorkflow,
    IncidentNotFound,
    IncidentRepository,
    IncidentResolved,
    InvalidCursor,
    Timeline,
    Timers,
    UnreadableWatch,
    WatchCatalogue,
    WatchExists,
    WatchNotFound,
)
from crisiswatch.vocabulary import Watch

INCIDENT_ID = r"^[a-z0-9][a-z0-9-]{0,79}$"
WATCH_ID = Watch.model_fields["id"].metadata[0].pattern
# The incidents list's cursor: the last incident's opened_at (ISO 8601) and id, as it returned them.
INCIDENTS_CURSOR = r"^[0-9][0-9T:.+-]{9,39}\|[a-z0-9][a-z0-9-]{0,79}$"
# Routes whose bodies are watches (WATCH_BODY_MAX_BYTES); every other body: API_BODY_MAX_BYTES.
WATCH_RESOURCES = frozenset({"/watches", "/watches/{watch_id}"})


class ErrorMessage(BaseModel):
    """What every 4xx carries: the reason, and for a 422 each field and its problem."""

    model_config = ConfigDict(extra="allow")
    message: str
    errors: list[dict] | None = None


_REASONS = {
    404: "no such incident or watch (or route)",
    409: "the request conflicts with what is stored (see the message)",
    413: "the body is larger than this route accepts",
    415: "the body is not JSON (Content-Type)",
    422: "the request is invalid: each field and its problem",
}


def answers(ok: int, *errors: int, model: type | None = None) -> dict[int, dict]:
    """The `responses` of a route: its success (`model`, or the return type when None) and errors."""
    success: dict = {"description": "OK"}
    if model is not None:
        success["content"] = {content_types.APPLICATION_JSON: {"model": model}}
    elif ok == 204:
        success["content"] = {}
    documented = {ok: success}
    for code in sorted({422, *errors}):
        documented[code] = {
            "description": _REASONS[code],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorMessage}},
        }
    return documented


BODY_ERRORS = (413, 415, 422)


class AckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=64, description="who takes responsibility, e.g. a name")
    note: str = Field(default="", max_length=500)


class StatementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["first", "detailed", "progress"]
    by: str = Field(min_length=1, max_length=64, description="who published or registers it")
    url: str = Field(default="", max_length=1000, pattern=r"^(https?://\S+)?$")
    text: str = Field(default="", max_length=5000)


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=64)
    summary: str = Field(min_length=1, max_length=2000, description="what ended it, for the review")


class IncidentSummary(BaseModel):
    incident_id: str
    watch_id: str
    watch_name: str
    status: str
    level: str
    level_reason: str
    opened_at: str
    updated_at: str
    negatives: int
    mentions: int


class IncidentList(BaseModel):
    incidents: list[IncidentSummary]
    next_cursor: str | None = None


class AckResponse(BaseModel):
    incident: dict
    released_escalations: int


def summary(incident: Incident) -> IncidentSummary:
    fields = incident.model_dump(mode="json")
    return IncidentSummary(
        **{name: fields[name] for name in IncidentSummary.model_fields if name in fields},
        negatives=incident.stats.negatives,
        mentions=incident.stats.mentions,
    )


class TimelinePage(BaseModel):
    incident_id: str
    events: list[TimelineEvent]  # oldest first, only the stored fields
    next_cursor: str | None = None


class WatchList(BaseModel):
    watches: list[Watch]


class IncidentBody(BaseModel):
    incident: dict


def _problem(error: dict) -> str:
    """A validation error's reason; for a body that is not JSON, what the parser found."""
    problem = error.get("msg") or error["type"]
    detail = (error.get("ctx") or {}).get("error")
    return f"{problem}: {detail}" if error["type"] == "json_invalid" and isinstance(detail, str) else problem


@dataclass(frozen=True)
class ApiDeps:
    incidents: IncidentRepository
    workflow: EscalationWorkflow  # releases the escalations an acknowledgement answers
    watches: WatchCatalogue
    clock: Clock
    timeline: Timeline
    timers: Timers | None = None  # the response clocks' wake-ups (statements and resolve change them)
    durations: ClockDurations = ClockDurations()
    # The subscriber and chat-bot names a watch's on-call policy may use (None: not checked).
    known_names: tuple[frozenset[str], frozenset[str]] | None = None

    def check_oncall(self, watch: Watch) -> None:
        """A policy naming someone the deployment cannot reach is refused (they would hear nothing)."""
        if watch.oncall is None or self.known_names is None:
            return
        people, bots = self.known_names
        for tier, policy in watch.oncall.tiers.items():
            unknown = sorted(set(policy.notify) - people) + sorted(set(policy.chat) - bots)
            if unknown:
                raise ServiceError(
                    422,
                    f"oncall.tiers.{tier.value} names {unknown}, which this deployment cannot reach; "
                    f"subscribers: {sorted(people)}, chat bots: {sorted(bots)}",
                )

    def desk(self) -> ResponseDesk:
        return ResponseDesk(
            self.incidents, self.workflow, self.clock, self.timeline, self.timers, self.durations
        )


def build_app(deps: Callable[[], ApiDeps]) -> APIGatewayRestResolver:
    """The resolver; `deps` is called lazily so AWS clients are made on the first request."""

    def check_body(text: str):
        watch = app.current_event.resource in WATCH_RESOURCES
        return read_body(text, limits.WATCH_BODY_MAX_BYTES if watch else limits.API_BODY_MAX_BYTES)

    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=check_body)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(part) for part in e["loc"]), "problem": _problem(e)}
            for e in error.errors()
        ]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return Response(
            status_code=422,
            content_type=content_types.APPLICATION_JSON,
            body={"message": f"invalid request: {summary}", "errors": problems},
        )

    def not_json() -> Response:
        content_type = app.current_event.headers.get("content-type", "")
        return Response(
            status_code=415,
            content_type=content_types.APPLICATION_JSON,
            body={"message": f"the body must be JSON (Content-Type: application/json), not {content_type!r}"},
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_content_type(error: RequestUnsupportedContentType) -> Response:
        return not_json()

    @app.exception_handler(ValueError)
    def unreadable_body(error: ValueError) -> Response:
        """Powertools reads form and multipart bodies itself, before any route, and raises ValueError
        on malformed ones (no boundary, characters beyond Latin-1): those requests are not JSON. A
        ValueError of a JSON request is a bug of ours, and stays one."""
        content_type = app.current_event.headers.get("content-type", "").strip()
        if content_type and not content_type.startswith(content_types.APPLICATION_JSON):
            return not_json()
        raise error

    @app.get("/incidents", responses=answers(200))
    def list_incidents(
        status: Annotated[Literal["open", "acknowledged", "resolved"], Query()] = "open",
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query(max_length=200, pattern=INCIDENTS_CURSOR)] = None,
    ) -> IncidentList:
        incidents, next_cursor = deps().incidents.list(status, limit, cursor)
        return IncidentList(incidents=[summary(i) for i in incidents], next_cursor=next_cursor)

    @app.get("/incidents/<incident_id>", responses=answers(200, 404))
    def get_incident(incident_id: Annotated[str, Path(pattern=INCIDENT_ID)]) -> dict:
        try:
            return deps().incidents.get(incident_id).model_dump(mode="json")
        except IncidentNotFound as e:
            raise NotFoundError(str(e)) from e

    @app.post("/incidents/<incident_id>/ack", responses=answers(200, 404, 409, *BODY_ERRORS))
    def ack_incident(incident_id: Annotated[str, Path(pattern=INCIDENT_ID)], body: AckRequest) -> AckResponse:
        try:
            incident, released = deps().desk().acknowledge(incident_id, body.by, body.note, caller=caller())
        except IncidentNotFound as e:
            raise NotFoundError(str(e)) from e
        except IncidentResolved as e:
            raise ServiceError(409, f"{e}: nothing left to acknowledge") from e
        count_now("IncidentsAcknowledged")
        return AckResponse(incident=incident.model_dump(mode="json"), released_escalations=released)

    @app.post(
        "/incidents/<incident_id>/statements",
        responses=answers(201, 404, 409, *BODY_ERRORS, model=IncidentBody),
    )
    def record_statement(incident_id: Annotated[str, Path(pattern=INCIDENT_ID)], body: StatementRequest):
        try:
            incident = (
                deps()
                .desk()
                .statement(incident_id, body.kind, body.by, url=body.url, text=body.text, caller=caller())
            )
        except IncidentNotFound as e:
            raise NotFoundError(str(e)) from e
        except IncidentResolved as e:
            raise ServiceError(409, f"{e}: statements are recorded while it is open") from e
        count_now("StatementsRecorded")
        return Response(201, content_types.APPLICATION_JSON, {"incident": incident.model_dump(mode="json")})

    @app.post("/incidents/<incident_id>/resolve", responses=answers(200, 404, 409, *BODY_ERRORS))
    def resolve_incident(
        incident_id: Annotated[str, Path(pattern=INCIDENT_ID)], body: ResolveRequest
    ) -> dict:
        try:
            incident = deps().desk().resolve(incident_id, body.by, body.summary)
        except IncidentNotFound as e:
            raise NotFoundError(str(e)) from e
        except IncidentResolved as e:
            raise ServiceError(409, f"{e} already") from e
        count_now("IncidentsResolvedByPeople")
        return {"incident": incident.model_dump(mode="json")}

    @app.get("/incidents/<incident_id>/timeline", responses=answers(200, 404))
    def incident_timeline(
        incident_id: Annotated[str, Path(pattern=INCIDENT_ID)],
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    ) -> TimelinePage:
        try:
            deps().incidents.get(incident_id)
            events, next_cursor = deps().timeline.page(incident_id, limit, cursor)
        except IncidentNotFound as e:
            raise NotFoundError(str(e)) from e
        except InvalidCursor as e:
            raise RequestValidationError(
                [{"loc": ("query", "cursor"), "msg": str(e), "type": "value_error"}]
            ) from e
        return TimelinePage(incident_id=incident_id, events=events, next_cursor=next_cursor)

    def caller() -> str:
        identity = app.current_event.request_context.identity
        return identity.user_arn or identity.caller or ""

    @app.get("/watches", responses=answers(200))
    def list_watches() -> WatchList:
        return WatchList(watches=sorted(deps().watches.list(), key=lambda w: w.id))

    @app.post("/watches", responses=answers(201, 409, *BODY_ERRORS, model=Watch))
    def create_watch(watch: Watch):  # returns a Response: no schema to validate
        deps().check_oncall(watch)
        stored = deps().watches.count()
        if stored >= limits.MAX_WATCHES:
            raise ServiceError(
                409,
                f"this deployment has {stored:,} watches, the most it takes ({limits.MAX_WATCHES:,}): "
                "delete one first",
            )
        try:
            deps().watches.create(watch, deps().clock.now(), by=caller())
        except WatchExists as e:
            raise ServiceError(409, f"{e}: use PUT /watches/{watch.id} to change it") from e
        return Response(201, content_types.APPLICATION_JSON, watch.model_dump(mode="json"))

    @app.get("/watches/<watch_id>", responses=answers(200, 404, 409))
    def get_watch(watch_id: Annotated[str, Path(pattern=WATCH_ID)]) -> Watch:
        try:
            return deps().watches.get(watch_id)
        except WatchNotFound as e:
            raise NotFoundError(str(e)) from e
        except UnreadableWatch as e:
            raise ServiceError(409, f"{e}: PUT a valid one or DELETE it") from e

    @app.put("/watches/<watch_id>", responses=answers(200, 404, *BODY_ERRORS))
    def replace_watch(watch_id: Annotated[str, Path(pattern=WATCH_ID)], watch: Watch) -> Watch:
        if watch.id != watch_id:
            raise ServiceError(422, f"body id {watch.id!r} differs from the path's {watch_id!r}")
        deps().check_oncall(watch)
        try:
            deps().watches.replace(watch, deps().clock.now(), by=caller())
        except WatchNotFound as e:
            raise NotFoundError(f"{e}: use POST /watches to create it") from e
        return watch

    @app.delete("/watches/<watch_id>", responses=answers(204, 404))
    def delete_watch(watch_id: Annotated[str, Path(pattern=WATCH_ID)]):  # returns a Response
        try:
            deps().watches.delete(watch_id)
        except WatchNotFound as e:
            raise NotFoundError(str(e)) from e
        return Response(204, content_types.APPLICATION_JSON, "")

    return app
