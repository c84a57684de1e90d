"""Roles are Django groups with model permissions. This module names them and keeps them in sync.

Each later app adds its models' permission codenames to ROLE_PERMISSIONS; the data
migration creates the groups, and `sync_role_permissions` (run after every migrate)
grants exactly what is listed here, so the table below is the one source of truth.
"""

from __future__ import annotations

from typing import Any

from django.db.models import TextChoices


class Role(TextChoices):
    PROVIDER_SERVICES = "Provider Services", "Provider Services"
    ADVOCATE = "Advocate", "Advocate"
    FINANCE = "Finance", "Finance"
    MEMBER = "Member", "Member"
    PROVIDER = "Provider", "Provider"


# Roles whose people work in the Django admin and staff pages (user.is_staff).
STAFF_ROLES = frozenset({Role.PROVIDER_SERVICES, Role.ADVOCATE, Role.FINANCE})
# Roles that may open the Django admin (each sees only what its permissions allow).
ADMIN_ROLES = STAFF_ROLES

# "app_label.codename" per role.
ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.PROVIDER_SERVICES: {
        "cooperative.view_auditevent",
        *(
            f"providers.{action}_{model}"
            for model in (
                "clinic",
                "location",
                "locationhours",
                "practitioner",
                "practitionerrole",
                "specialty",
                "rateagreement",
                "ageband",
                "feescheduleline",
                "qualityterm",
                "provideraccount",
                "payer",
                "payercontract",
                "payerpolicyupdate",
            )
            for action in ("view", "add", "change")
        ),
        "providers.view_clinicstatusevent",
        "providers.view_zipcode",
        "providers.view_agreementevent",
        "providers.view_agreementproposal",
        "providers.view_payercontractoffer",
        "providers.change_payercontractoffer",  # answer a clinic's counter (admin actions)
        "providers.view_payercontractevent",
        "providers.view_payercontractofferevent",
        *(f"members.view_{m}" for m in ("member", "membership", "plan", "employergroup")),
        "members.view_pcpstandingissue",  # members needing a new PCP
        "members.view_ageoutnotice",  # members turning 65
        "providers.view_practitionerstatusevent",
        *(
            f"credentialing.{action}_{model}"
            for model in (
                "credentialingapplication",
                "license",
                "dearegistration",
                "education",
                "boardcertification",
                "workhistory",
                "hospitalaffiliation",
                "malpracticeinsurance",
                "malpracticeclaim",
                "attachment",
                "verification",
                "changerequest",
            )
            for action in ("view", "add", "change")
        ),  # fmt: skip
        *(
            f"credentialing.delete_{model}"
            for model in (
                "license",
                "dearegistration",
                "education",
                "boardcertification",
                "workhistory",
                "hospitalaffiliation",
                "malpracticeinsurance",
                "malpracticeclaim",
            )
        ),  # fmt: skip
        "credentialing.decide_credentialingapplication",
        "credentialing.download_attachment",
        "credentialing.view_applicationevent",
        "credentialing.view_committeedecision",
        "credentialing.view_stafftask",
        "credentialing.change_stafftask",
        "credentialing.view_screeningrun",
        "credentialing.add_screeningrun",
        "credentialing.view_screeningresult",
        "credentialing.change_screeningresult",
    },
    Role.ADVOCATE: {
        "providers.view_payer",
        "providers.view_payercontract",
        "providers.view_payerpolicyupdate",
        "providers.view_clinic",
        "providers.view_location",
        "providers.view_practitioner",
        "providers.view_rateagreement",
        "advocacy.work_case",
        # Advocacy records are changed through services; nothing here is ever deleted.
        *(
            f"advocacy.{action}_{model}"
            for model in (
                "case",
                "casenote",
                "casecontact",
                "casetask",
                "caseattachment",
                "casepolicylink",
                "utilizationevent",
                "utilizationimport",
                "carecoordinationrequirement",
                "requirementnotice",
                "relatedexpense",
                "treatmentplan",
                "planreview",
                "claimdispute",
                "billreview",
                "billline",
                "referral",
            )
            for action in ("view", "add", "change")
        ),
        "advocacy.view_caseevent",
        "advocacy.view_penaltyline",
        "advocacy.view_penaltyaccumulator",
        "advocacy.view_prioritytarget",
        "advocacy.change_prioritytarget",
    },
    Role.FINANCE: {
        "cooperative.view_auditevent",
        "providers.view_clinic",
        "providers.view_location",
        "providers.view_rateagreement",
        "providers.view_payercontract",
        *(
            f"members.view_{m}"
            for m in (
                "member",
                "membership",
                "plan",
                "employergroup",
                "invoice",
                "employerinvoice",
                "payment",
                "paymentimport",
                "membershipevent",
                "pcpassignment",
                "rosterentry",
                "rosterupload",
                "pcpstandingissue",
                "ageoutnotice",
            )
        ),  # fmt: skip
        *(f"payouts.view_{m}" for m in ("payouthold",)),
        "members.add_payment",
        "members.add_paymentimport",
        *(f"payouts.view_{m}" for m in ("bankaccount", "payoutrun", "payoutrunevent", "statement")),
        "payouts.add_bankaccount",
        "payouts.change_bankaccount",
        "members.add_employergroup",
        "members.change_employergroup",
        "members.add_rosterupload",
        "members.add_plan",
    },
    Role.MEMBER: set(),
    Role.PROVIDER: set(),
}


def ensure_role_groups(*, group_model: Any = None, permission_model: Any = None) -> None:
    """Create every role's group and grant it exactly the permissions of ROLE_PERMISSIONS.

    Permissions that do not exist yet (their app is not migrated) are skipped and granted
    on the next run; the post_migrate hook runs this after every `migrate`.
    """
    if group_model is None or permission_model is None:
        from django.contrib.auth.models import Group, Permission

        group_model, permission_model = Group, Permission
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=str(role))
        wanted = []
        for dotted in sorted(codenames):
            app_label, codename = dotted.split(".", 1)
            permission = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.set(wanted)
