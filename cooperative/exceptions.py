"""ApplicationError and the one API exception handler that shapes every error as JSON."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A rule of the business refused the request; the message tells a person what to do.

    `errors` maps field names to messages; `status_code` is 400 (invalid), 403, 404 or
    409 (conflict with the current state, e.g. a transition that is not allowed).
    """

    def __init__(
        self,
        message: str,
        *,
        errors: dict[str, list[str]] | None = None,
        status_code: int = 400,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.status_code = status_code


class ConflictError(ApplicationError):
    """The request conflicts with the record's current state (HTTP 409)."""

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message, errors=errors, status_code=409)


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        out: list[str] = []
        for item in value:
            out.extend(_as_list(item))
        return out
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _as_list(v)]
    return [str(value)]


def _field_errors(detail: Any) -> dict[str, list[str]]:
    """Flatten DRF/Django error details into {field: [messages]}."""
    if isinstance(detail, dict):
        errors: dict[str, list[str]] = {}
        for field, messages in detail.items():
            if isinstance(messages, dict):
                for sub, sub_messages in _field_errors(messages).items():
                    errors[f"{field}.{sub}"] = sub_messages
            else:
                errors[str(field)] = _as_list(messages)
        return errors
    return {"non_field_errors": _as_list(detail)}


def validation_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    """A Django ValidationError as {field: [messages]} ("non_field_errors" when it names none)."""
    if hasattr(error, "error_dict"):
        return {field: [str(m) for m in msgs] for field, msgs in error.message_dict.items()}
    return {"non_field_errors": [str(m) for m in error.messages]}


def application_error_from(error: DjangoValidationError) -> ApplicationError:
    """A model's validation error as the ApplicationError services raise, first message on top."""
    errors = validation_errors(error)
    return ApplicationError(next(iter(errors.values()))[0], errors=errors)


def full_clean_or_raise(instance: Any, *, exclude: list[str] | None = None) -> None:
    """`instance.full_clean()`, refusing bad data with an ApplicationError (never a 500)."""
    try:
        instance.full_clean(exclude=exclude)
    except DjangoValidationError as error:
        raise application_error_from(error) from None


def error_body(detail: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The one error shape of the API."""
    return {"detail": detail, "errors": errors or {}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Turn every exception raised in an API view into `{"detail": ..., "errors": {...}}`."""
    from .audit import record_denied

    request = context.get("request")
    if isinstance(exc, ApplicationError):
        if exc.status_code == 403 and request is not None:
            record_denied(request, detail=exc.message)
        return Response(error_body(exc.message, exc.errors), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return Response(
            error_body("Invalid input.", validation_errors(exc)), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    response = drf_default_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in API view", exc_info=exc)
        return Response(
            error_body("Something went wrong on our side. The error has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, drf_exceptions.ValidationError):
        body = error_body("Invalid input.", _field_errors(exc.detail))
    else:
        detail = exc.detail if isinstance(exc, drf_exceptions.APIException) else str(exc)
        body = error_body(str(detail))
        if (
            isinstance(exc, drf_exceptions.PermissionDenied)
            and request is not None
            and request.user.is_authenticated
        ):
            record_denied(request, detail=str(detail))
    response.data = body
    return response
