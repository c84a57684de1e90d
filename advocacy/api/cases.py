"""Cases and their timeline over the API: /api/v1/cases/ (advocates work them; a member reads
their own, with the notes marked as shared and nothing else) and the case's notes, contacts and
tasks. Every write calls advocacy.services, so the API refuses exactly what the workspace refuses;
every staff read of a case writes a VIEW audit row."""

from __future__ import annotations

from datetime import date
from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from cooperative.api import AuditedReadMixin
from cooperative.audit import record_denied
from cooperative.exceptions import ApplicationError
from members import selectors as member_selectors
from members.models import Member
from providers.models import Clinic, Payer, Practitioner

from .. import selectors, services
from ..models import (
    CASE_TRANSITIONS,
    OPEN_CASE_STATUSES,
    Case,
    CaseContact,
    CaseNote,
    CasePriority,
    CaseStatus,
    CaseTask,
    CaseType,
    ContactChannel,
    ContactDirection,
    ContactParty,
    SourceChannel,
    TaskStatus,
)
from ..selectors.cases import queue_filter  # the workspace's queue rules: one rule book
from .common import (
    ApiErrorSerializer,
    IsAdvocate,
    IsAdvocateOrMemberReading,
    validated,
    viewer_of,
)

User = get_user_model()
API_QUEUES = ("mine", "unassigned", "waiting", "overdue")
MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
# How a task may end (named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
TASK_FINISH_STATUSES = [(s.value, s.label) for s in (TaskStatus.DONE, TaskStatus.CANCELLED)]


def cases_for_advocates() -> QuerySet[Case]:
    """Every case with what a list row shows (member, assignee, open tasks): one query a page."""
    return (
        Case.objects.select_related("member", "assignee", "opened_by")
        .annotate(open_task_count=Count("tasks", filter=Q(tasks__status=TaskStatus.OPEN)))
        .order_by("due_on", "id")
    )


def _advocate_case(pk: Any) -> Case:
    case = cases_for_advocates().filter(pk=pk).first()
    if case is None:
        raise NotFound("No such case.")
    return case


def _member_case(request: Request, member: Member, pk: Any) -> Case:
    """The member's own case, with its shared notes; anyone else's is a 404 (and audited)."""
    case = selectors.member_case_get(member, int(pk))
    if case is None:
        record_denied(request, detail=f"case {pk} is not the member's")
        raise NotFound("No such case.")
    return case


# --- Serializers: what the API returns ------------------------------------------------------


class CaseListSerializer(serializers.ModelSerializer):
    """A row of the advocates' case list."""

    reference = serializers.CharField(read_only=True)
    member_number = serializers.CharField(source="member.member_number", read_only=True)
    member_name = serializers.SerializerMethodField()
    assignee_username = serializers.CharField(
        source="assignee.username", allow_null=True, default=None, read_only=True
    )
    is_overdue = serializers.SerializerMethodField()
    open_task_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Case
        fields = ["id", "reference", "member", "member_number", "member_name", "case_type",
                  "priority", "status", "assignee", "assignee_username", "source", "summary",
                  "opened_at", "due_on", "is_overdue", "resolved_at", "closed_at", "flag_reason",
                  "open_task_count"]  # fmt: skip
        read_only_fields = fields

    def get_member_name(self, case: Case) -> str:
        return f"{case.member.first_name} {case.member.last_name}"

    def get_is_overdue(self, case: Case) -> bool:
        today: date = self.context.get("today") or timezone.localdate()
        return case.status in OPEN_CASE_STATUSES and case.due_on < today


class CaseDetailSerializer(CaseListSerializer):
    """One case for an advocate: parties, resolution, savings, and where its status may go next."""

    opened_by_username = serializers.CharField(
        source="opened_by.username", allow_null=True, default=None, read_only=True
    )
    allowed_transitions = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = CaseListSerializer.Meta.fields + [
            "practitioner", "clinic", "payer", "resolution", "billed_amount", "expected_amount",
            "paid_amount", "recovered_amount", "opened_by_username", "allowed_transitions",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(CaseStatus.choices)))
    def get_allowed_transitions(self, case: Case) -> list[str]:
        return sorted(CASE_TRANSITIONS[case.status])


class SharedNoteSerializer(serializers.ModelSerializer):
    """A note the advocate shared with the member: its text and when it was written."""

    class Meta:
        model = CaseNote
        fields = ["body", "created_at"]
        read_only_fields = fields


class MemberCaseSerializer(serializers.ModelSerializer):
    """A member's own case: status and the notes marked as shared, nothing else."""

    reference = serializers.CharField(read_only=True)
    shared_notes = SharedNoteSerializer(many=True, read_only=True)

    class Meta:
        model = Case
        fields = ["id", "reference", "case_type", "status", "summary", "opened_at",
                  "resolved_at", "shared_notes"]  # fmt: skip
        read_only_fields = fields


class CaseNoteSerializer(serializers.ModelSerializer):
    author_username = serializers.CharField(
        source="author.username", allow_null=True, default=None, read_only=True
    )

    class Meta:
        model = CaseNote
        fields = ["id", "body", "is_shared", "corrects", "author_username", "created_at"]
        read_only_fields = fields


class CaseContactSerializer(serializers.ModelSerializer):
    logged_by_username = serializers.CharField(
        source="logged_by.username", allow_null=True, default=None, read_only=True
    )

    class Meta:
        model = CaseContact
        fields = ["id", "channel", "direction", "party", "with_whom", "occurred_at", "outcome",
                  "logged_by_username", "created_at"]  # fmt: skip
        read_only_fields = fields


class CaseTaskSerializer(serializers.ModelSerializer):
    assignee_username = serializers.CharField(
        source="assignee.username", allow_null=True, default=None, read_only=True
    )
    created_by_username = serializers.CharField(
        source="created_by.username", allow_null=True, default=None, read_only=True
    )

    class Meta:
        model = CaseTask
        fields = ["id", "title", "due_on", "assignee", "assignee_username", "status",
                  "completed_at", "created_by_username", "created_at"]  # fmt: skip
        read_only_fields = fields


CASE_VIEW = PolymorphicProxySerializer(
    component_name="CaseView",
    serializers=[CaseDetailSerializer, MemberCaseSerializer],
    resource_type_field_name=None,
)
CASE_ROWS = PolymorphicProxySerializer(
    component_name="CaseRow",
    serializers=[CaseListSerializer, MemberCaseSerializer],
    resource_type_field_name=None,
    many=True,
)
NOTE_ROWS = PolymorphicProxySerializer(
    component_name="CaseNoteView",
    serializers=[CaseNoteSerializer, SharedNoteSerializer],
    resource_type_field_name=None,
    many=True,
)


# --- Serializers: what the API accepts ------------------------------------------------------


def _user_field(**kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), **kwargs)


class CaseCreateSerializer(serializers.Serializer):
    member_number = serializers.CharField(max_length=20)
    case_type = serializers.ChoiceField(choices=CaseType.choices)
    summary = serializers.CharField(max_length=300)
    priority = serializers.ChoiceField(choices=CasePriority.choices, default=CasePriority.NORMAL)
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=SourceChannel.choices, default=SourceChannel.PHONE
    )
    practitioner = serializers.PrimaryKeyRelatedField(
        queryset=Practitioner.objects.all(), required=False, allow_null=True, default=None
    )
    clinic = serializers.PrimaryKeyRelatedField(
        queryset=Clinic.objects.all(), required=False, allow_null=True, default=None
    )
    payer = serializers.PrimaryKeyRelatedField(
        queryset=Payer.objects.all(), required=False, allow_null=True, default=None
    )
    assignee = _user_field(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CaseUpdateSerializer(serializers.Serializer):
    """PATCH: only the fields sent change; the status moves through /transitions/."""

    priority = serializers.ChoiceField(choices=CasePriority.choices, required=False)
    summary = serializers.CharField(max_length=300, required=False)
    assignee = _user_field(required=False, allow_null=True)
    practitioner = serializers.PrimaryKeyRelatedField(
        queryset=Practitioner.objects.all(), required=False, allow_null=True
    )
    clinic = serializers.PrimaryKeyRelatedField(
        queryset=Clinic.objects.all(), required=False, allow_null=True
    )
    payer = serializers.PrimaryKeyRelatedField(
        queryset=Payer.objects.all(), required=False, allow_null=True
    )
    billed_amount = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    expected_amount = serializers.DecimalField(
        **MONEY, min_value=0, required=False, allow_null=True
    )
    paid_amount = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    recovered_amount = serializers.DecimalField(
        **MONEY, min_value=0, required=False, allow_null=True
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "status" in self.initial_data:
            raise serializers.ValidationError(
                {"status": ["Change the status with POST /api/v1/cases/{id}/transitions/."]}
            )
        return attrs


class CaseTransitionSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=CaseStatus.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    resolution = serializers.CharField(required=False, allow_blank=True, default="")


class CaseNoteInputSerializer(serializers.Serializer):
    body = serializers.CharField()
    is_shared = serializers.BooleanField(required=False, default=False)
    corrects = serializers.PrimaryKeyRelatedField(
        queryset=CaseNote.objects.all(), required=False, allow_null=True, default=None
    )


class CaseContactInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ContactChannel.choices)
    direction = serializers.ChoiceField(
        choices=ContactDirection.choices, default=ContactDirection.OUTBOUND
    )
    party = serializers.ChoiceField(choices=ContactParty.choices)
    with_whom = serializers.CharField(max_length=200)
    outcome = serializers.CharField()
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class CaseTaskInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    due_on = serializers.DateField()
    assignee = _user_field(required=False, allow_null=True, default=None)


class CaseTaskFinishSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TASK_FINISH_STATUSES, default=TaskStatus.DONE)


# --- Filters ----------------------------------------------------------------------------------


class CaseFilter(django_filters.FilterSet):
    """The advocates' list: the workspace's queues and filters, by due date unless asked."""

    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    case_type = django_filters.ChoiceFilter(choices=CaseType.choices)
    priority = django_filters.ChoiceFilter(choices=CasePriority.choices)
    assignee = django_filters.ModelChoiceFilter(
        queryset=User.objects.all(), label="assignee (user id)"
    )
    member_number = django_filters.CharFilter(
        field_name="member__member_number", lookup_expr="iexact"
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="open and past due")
    queue = django_filters.ChoiceFilter(
        choices=[(q, selectors.QUEUES[q]) for q in API_QUEUES], method="filter_queue"
    )
    ordering = django_filters.ChoiceFilter(
        choices=[
            ("due_on", "Due first"),
            ("-due_on", "Due last"),
            ("opened_at", "Oldest first"),
            ("-opened_at", "Newest first"),
        ],  # fmt: skip
        method="filter_ordering",
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_overdue(self, queryset: QuerySet[Case], name: str, value: bool) -> Any:
        overdue = queue_filter("overdue", None, timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_queue(self, queryset: QuerySet[Case], name: str, value: str) -> Any:
        return queryset.filter(queue_filter(value, self.request.user, timezone.localdate()))

    def filter_ordering(self, queryset: QuerySet[Case], name: str, value: str) -> Any:
        return queryset.order_by(value, "-id" if value.startswith("-") else "id")


# --- Views ----------------------------------------------------------------------------------


@extend_schema(tags=["advocacy"])
class CaseViewSet(AuditedReadMixin, viewsets.GenericViewSet):
    """Advocacy cases: advocates list, open, read, change and move them; a member reads their own
    (status and shared notes only)."""

    permission_classes = [IsAdvocateOrMemberReading]
    filterset_class = CaseFilter
    lookup_value_regex = r"[0-9]+"
    queryset = Case.objects.none()  # for the schema; get_queryset decides per caller
    serializer_class = CaseListSerializer

    def get_queryset(self) -> QuerySet[Case]:
        viewer = viewer_of(self.request)
        if viewer.is_advocate:
            return cases_for_advocates()
        assert viewer.member is not None  # the permission let only members through
        return selectors.member_cases(viewer.member)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if not viewer_of(self.request).is_advocate:
            return queryset  # a member's few cases, unfiltered
        return super().filter_queryset(queryset)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def _detail(self, case: Case, *, code: int = status.HTTP_200_OK) -> Response:
        fresh = _advocate_case(case.pk)
        return Response(
            CaseDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(responses=CASE_ROWS)
    def list(self, request: Request) -> Response:
        """Advocates: every case, filtered; a member: their own cases, newest first."""
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        serializer_class = (
            CaseListSerializer if viewer_of(request).is_advocate else MemberCaseSerializer
        )
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(responses={200: CASE_VIEW, 404: ApiErrorSerializer})
    def retrieve(self, request: Request, pk: str) -> Response:
        """One case; each read by staff is an audit row. A member reads only their own."""
        viewer = viewer_of(request)
        if viewer.member is not None and not viewer.is_advocate:
            return Response(MemberCaseSerializer(_member_case(request, viewer.member, pk)).data)
        case = _advocate_case(pk)
        services.case_view_record(case=case, actor=request.user, request=request)
        return Response(CaseDetailSerializer(case, context=self.get_serializer_context()).data)

    @extend_schema(
        request=CaseCreateSerializer,
        responses={201: CaseDetailSerializer, 400: ApiErrorSerializer},
    )
    def create(self, request: Request) -> Response:
        """Open a case for a member (by member number); due by its priority's target."""
        data = validated(CaseCreateSerializer, request.data)
        number = data.pop("member_number").strip()
        member = member_selectors.member_by_number(number)
        if member is None:
            raise ApplicationError(
                f"We don't know member number {number}.",
                errors={"member_number": [f"Unknown member number '{number}'."]},
            )
        case = services.case_open(actor=request.user, member=member, **data)
        return self._detail(case, code=status.HTTP_201_CREATED)

    @extend_schema(
        request=CaseUpdateSerializer,
        responses={200: CaseDetailSerializer, 400: ApiErrorSerializer, 409: ApiErrorSerializer},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        """Change priority (the due date follows), summary, parties, assignee (a user id; null
        to unassign) or savings; all of it or none of it."""
        case = _advocate_case(pk)
        data = validated(CaseUpdateSerializer, request.data)
        reason = data.pop("reason")
        actor = request.user
        with transaction.atomic():
            if "assignee" in data:
                case = services.case_assign(case=case, actor=actor, assignee=data.pop("assignee"))
            savings = {name: data.pop(name) for name in services.SAVINGS_FIELDS if name in data}
            if data:
                case = services.case_update(case=case, actor=actor, reason=reason, **data)
            if savings:
                case = services.case_set_savings(case=case, actor=actor, reason=reason, **savings)
        return self._detail(case)

    @extend_schema(
        request=CaseTransitionSerializer,
        responses={200: CaseDetailSerializer, 400: ApiErrorSerializer, 409: ApiErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request: Request, pk: str) -> Response:
        """Move the case along its status machine; 409 when the move is not allowed from here."""
        case = _advocate_case(pk)
        data = validated(CaseTransitionSerializer, request.data)
        case = services.case_transition(case=case, actor=request.user, **data)
        return self._detail(case)


class CaseChildViewSet(viewsets.GenericViewSet):
    """A list on one case (/cases/{case_pk}/…): advocates read and add; each read is audited."""

    permission_classes = [IsAdvocate]
    filter_backends: list[Any] = []
    what = ""

    def get_case(self) -> Case:
        case = Case.objects.filter(pk=self.kwargs["case_pk"]).first()
        if case is None:
            raise NotFound("No such case.")
        return case

    def _page(self, queryset: Any, serializer_class: Any) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)


@extend_schema(tags=["advocacy"])
class CaseNoteViewSet(CaseChildViewSet):
    """A case's notes, newest first (append-only: a correction is a new note naming the old
    one). A member reads only the notes shared with them, on their own case."""

    permission_classes = [IsAdvocateOrMemberReading]
    queryset = CaseNote.objects.none()
    serializer_class = CaseNoteSerializer

    @extend_schema(responses={200: NOTE_ROWS, 404: ApiErrorSerializer})
    def list(self, request: Request, case_pk: int) -> Response:
        viewer = viewer_of(request)
        if not viewer.is_advocate:
            assert viewer.member is not None  # the permission let only members through
            case = _member_case(request, viewer.member, case_pk)
            return self._page(case.shared_notes, SharedNoteSerializer)  # type: ignore[attr-defined]
        case = self.get_case()
        services.case_view_record(case=case, actor=request.user, request=request, detail="notes")
        notes = case.notes.select_related("author").order_by("-created_at", "-id")
        return self._page(notes, CaseNoteSerializer)

    @extend_schema(
        request=CaseNoteInputSerializer,
        responses={201: CaseNoteSerializer, 400: ApiErrorSerializer, 409: ApiErrorSerializer},
    )
    def create(self, request: Request, case_pk: int) -> Response:
        """Add a note; 409 when the case is closed."""
        case = self.get_case()
        data = validated(CaseNoteInputSerializer, request.data)
        note = services.note_add(case=case, actor=request.user, **data)
        return Response(CaseNoteSerializer(note).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["advocacy"])
class CaseContactViewSet(CaseChildViewSet):
    """A case's logged calls, emails and letters, latest first."""

    queryset = CaseContact.objects.none()
    serializer_class = CaseContactSerializer

    @extend_schema(responses={200: CaseContactSerializer(many=True), 404: ApiErrorSerializer})
    def list(self, request: Request, case_pk: int) -> Response:
        case = self.get_case()
        services.case_view_record(case=case, actor=request.user, request=request, detail="contacts")
        contacts = case.contacts.select_related("logged_by").order_by("-occurred_at", "-id")
        return self._page(contacts, CaseContactSerializer)

    @extend_schema(
        request=CaseContactInputSerializer,
        responses={201: CaseContactSerializer, 400: ApiErrorSerializer, 409: ApiErrorSerializer},
    )
    def create(self, request: Request, case_pk: int) -> Response:
        """Log a contact (now unless `occurred_at` says when); 409 when the case is closed."""
        case = self.get_case()
        data = validated(CaseContactInputSerializer, request.data)
        contact = services.contact_log(case=case, actor=request.user, **data)
        return Response(CaseContactSerializer(contact).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["advocacy"])
class CaseTaskViewSet(CaseChildViewSet):
    """A case's tasks: open ones first, by due date."""

    queryset = CaseTask.objects.none()
    serializer_class = CaseTaskSerializer

    @extend_schema(responses={200: CaseTaskSerializer(many=True), 404: ApiErrorSerializer})
    def list(self, request: Request, case_pk: int) -> Response:
        case = self.get_case()
        services.case_view_record(case=case, actor=request.user, request=request, detail="tasks")
        tasks = case.tasks.select_related("assignee", "created_by").order_by(
            "status", "due_on", "id"
        )
        return self._page(tasks, CaseTaskSerializer)

    @extend_schema(
        request=CaseTaskInputSerializer,
        responses={201: CaseTaskSerializer, 400: ApiErrorSerializer, 409: ApiErrorSerializer},
    )
    def create(self, request: Request, case_pk: int) -> Response:
        """Add a task (owned by the case's assignee unless another advocate is named)."""
        case = self.get_case()
        data = validated(CaseTaskInputSerializer, request.data)
        task = services.task_add(case=case, actor=request.user, **data)
        return Response(CaseTaskSerializer(task).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CaseTaskFinishSerializer,
        responses={
            200: CaseTaskSerializer,
            400: ApiErrorSerializer,
            404: ApiErrorSerializer,
            409: ApiErrorSerializer,
        },
    )
    def finish(self, request: Request, case_pk: int, pk: int) -> Response:
        """Mark an open task done (or cancelled); 409 when it is already finished."""
        task = CaseTask.objects.filter(pk=pk, case_id=case_pk).first()
        if task is None:
            raise NotFound("No such task on this case.")
        data = validated(CaseTaskFinishSerializer, request.data)
        task = services.task_finish(task=task, actor=request.user, status=data["status"])
        task = CaseTask.objects.select_related("assignee", "created_by").get(pk=task.pk)
        return Response(CaseTaskSerializer(task).data)


__all__ = ["CaseContactViewSet", "CaseNoteViewSet", "CaseTaskViewSet", "CaseViewSet"]
