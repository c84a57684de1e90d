"""Claim disputes, bill reviews and referrals in the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from cooperative.money import format_usd

from .. import selectors, services
from ..models import BillLine, BillReview, BillReviewStatus, ClaimDispute, Referral, ReferralStatus
from .base import (
    AdvocacyViewAdmin,
    QualificationFilter,
    _each,
    _link,
    _member_label,
    _ReadOnlyInline,
)

# --- Disputes, bill reviews, referrals ------------------------------------------------------


@admin.register(ClaimDispute)
class ClaimDisputeAdmin(AdvocacyViewAdmin):
    list_display = ["claim_number", "payer", "member_label", "service_date", "billed_amount", "paid_amount",
                    "expected_amount", "in_dispute", "filing_deadline", "qualifies", "outcome",
                    "recovered_amount"]  # fmt: skip
    list_filter = ["outcome", QualificationFilter, "payer", "expected_source"]
    search_fields = [
        "claim_number",
        "case__member__member_number",
        "case__member__last_name",
        "case__id__exact",
    ]
    date_hierarchy = "service_date"
    list_select_related = ["payer", "case__member"]

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        # The page's qualifications in a fixed number of queries, kept on the rows themselves.
        qualifications = selectors.dispute_qualifications(changelist.result_list)
        for dispute in changelist.result_list:
            dispute.qualification = qualifications.get(dispute.pk)
        return changelist

    @admin.display(description="member", ordering="case__member__member_number")
    def member_label(self, dispute: ClaimDispute) -> str:
        return _member_label(dispute.case.member)

    @admin.display(description="in dispute")
    def in_dispute(self, dispute: ClaimDispute) -> Any:
        return dispute.amount_in_dispute

    @admin.display(description="qualifies")
    def qualifies(self, dispute: ClaimDispute) -> str:
        qualification = getattr(dispute, "qualification", None)
        if qualification is None:
            qualification = selectors.dispute_qualifications([dispute]).get(dispute.pk)
        if qualification is None or not qualification.qualifies:
            return "—"
        labels = [label for flag, label in ((qualification.is_high_dollar, "high-dollar"),
                  (qualification.is_systemic, "systemic"), (qualification.is_payer_unresponsive, "payer unresponsive")) if flag]  # fmt: skip
        return format_html(
            '<span title="{}">{}</span>', " ".join(qualification.reasons), ", ".join(labels)
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["case_link", *[f.name for f in ClaimDispute._meta.fields if f.name not in ("id", "case")],
                "in_dispute", "qualifies"]  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)

    @admin.display(description="case")
    def case_link(self, dispute: ClaimDispute) -> str:
        return _link(dispute.case, dispute.case.reference)


class BillLineInline(_ReadOnlyInline):
    model = BillLine
    fields = [
        "line_number",
        "code",
        "description",
        "units",
        "billed_amount",
        "agreed",
        "overcharge_display",
        "cap",
    ]
    readonly_fields = fields  # type: ignore[assignment]

    @admin.display(description="cap")
    def cap(self, line: BillLine) -> Any:
        if line.cap_flag:
            return format_html('<strong class="coop-alert">{}</strong>', line.cap_flag)
        if line.cap_amount is not None:
            return f"{format_usd(line.cap_amount)} per {line.cap_period}"
        return "—"

    @admin.display(description="agreed price")
    def agreed(self, line: BillLine) -> Any:
        if line.agreed_amount is None:
            return mark_safe('<em class="coop-alert">not on the fee schedule</em>')  # noqa: S308 (a constant)
        return line.agreed_amount

    @admin.display(description="overcharge")
    def overcharge_display(self, line: BillLine) -> Any:
        if line.is_overcharge:
            return format_html('<strong class="coop-alert">{}</strong>', line.overcharge)
        return line.overcharge


@admin.register(BillReview)
class BillReviewAdmin(AdvocacyViewAdmin):
    list_display = ["__str__", "case_link", "member_label", "practitioner", "bill_reference", "status",
                    "line_count", "total_billed", "total_overcharge"]  # fmt: skip
    list_filter = ["status", ("service_date", admin.DateFieldListFilter)]
    search_fields = ["bill_reference", "case__member__member_number", "case__member__last_name",
                     "practitioner__npi", "practitioner__last_name"]  # fmt: skip
    list_select_related = ["case__member", "practitioner"]
    inlines = [BillLineInline]
    readonly_fields = ["case_link", "practitioner", "agreement", "bill_reference", "service_date",
                                "status", "created_by", "created_at", "total_billed", "total_overcharge"]  # fmt: skip
    fields = readonly_fields  # type: ignore[assignment]
    actions = ["complete"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_lines=Count("lines"),
                billed=Sum("lines__billed_amount"),
                over=Sum("lines__overcharge"),
            )
        )

    @admin.display(description="case", ordering="case_id")
    def case_link(self, review: BillReview) -> str:
        return _link(review.case, review.case.reference)

    @admin.display(description="member", ordering="case__member__member_number")
    def member_label(self, review: BillReview) -> str:
        return _member_label(review.case.member)

    @admin.display(description="lines", ordering="n_lines")
    def line_count(self, review: Any) -> int:
        return review.n_lines

    @admin.display(description="billed", ordering="billed")
    def total_billed(self, review: Any) -> Any:
        return review.billed if review.billed is not None else "—"

    @admin.display(description="overcharge", ordering="over")
    def total_overcharge(self, review: Any) -> Any:
        if review.over:
            return format_html('<strong class="coop-alert">{}</strong>', review.over)
        return review.over if review.over is not None else "—"

    @admin.action(
        description="Complete the review (savings: the total overcharge)", permissions=["work"]
    )
    def complete(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        _each(request, queryset.filter(status=BillReviewStatus.OPEN), "Reviews completed",
              lambda r: services.bill_review_complete(review=r, actor=request.user))  # fmt: skip


@admin.register(Referral)
class ReferralAdmin(AdvocacyViewAdmin):
    list_display = ["created_at", "case_link", "member_label", "kind", "target", "reason", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["case__member__member_number", "case__member__last_name", "practitioner__last_name",
                     "practitioner__npi", "out_of_network_provider", "case__id__exact"]  # fmt: skip
    list_select_related = ["case__member", "practitioner"]
    readonly_fields = ["case_link", "kind", "practitioner", "out_of_network_provider", "reason",
                                "status", "created_by", "created_at", "updated_at"]  # fmt: skip
    fields = readonly_fields  # type: ignore[assignment]
    actions = ["mark_sent", "mark_scheduled", "mark_completed", "cancel"]

    @admin.display(description="case", ordering="case_id")
    def case_link(self, referral: Referral) -> str:
        return _link(referral.case, referral.case.reference)

    @admin.display(description="member", ordering="case__member__member_number")
    def member_label(self, referral: Referral) -> str:
        return _member_label(referral.case.member)

    @admin.display(description="to")
    def target(self, referral: Referral) -> str:
        return (
            str(referral.practitioner)
            if referral.practitioner
            else f"{referral.out_of_network_provider} (out of network)"
        )

    def _set(self, request: HttpRequest, queryset: QuerySet[Any], status: str) -> None:
        _each(request, queryset, f"Referrals {ReferralStatus(status).label.lower()}",
              lambda r: services.referral_set_status(referral=r, actor=request.user, status=status))  # fmt: skip

    @admin.action(description="Mark sent to the provider", permissions=["work"])
    def mark_sent(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._set(request, queryset, ReferralStatus.SENT)

    @admin.action(description="Mark appointment scheduled", permissions=["work"])
    def mark_scheduled(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._set(request, queryset, ReferralStatus.SCHEDULED)

    @admin.action(description="Mark completed", permissions=["work"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._set(request, queryset, ReferralStatus.COMPLETED)

    @admin.action(description="Cancel", permissions=["work"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._set(request, queryset, ReferralStatus.CANCELLED)
