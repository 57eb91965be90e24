"""The requests notifications accepts, as pydantic models: fields named on every error."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shopsim.validation import Cents, CustomerId, Model, Query, ShortText

Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]
Name = Annotated[str, StringConstraints(max_length=100)]
RegistryId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class MessageRecipient(Model):
    customer_id: CustomerId
    email: Email
    name: Annotated[str, StringConstraints(max_length=200)] = ""


class MessageRequest(Model):
    event_id: ShortText
    template: Literal["order_confirmation", "gift_alert"]
    recipient: MessageRecipient | None = None
    registry_id: RegistryId | None = None
    data: Annotated[dict[str, Any], Field(max_length=50)] = {}


class TemplateData(BaseModel):
    """Keys a template reads from "data" are type-checked; any other key is carried along."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)

    items: list[dict[str, Any]] | None = None


class OrderData(TemplateData):
    order_id: ShortText | None = None
    total_cents: Cents | None = None


class GiftData(TemplateData):
    registry_kind: Annotated[str, StringConstraints(max_length=50)] | None = None
    registry_title: Annotated[str, StringConstraints(max_length=200)] | None = None
    buyer_name: Annotated[str, StringConstraints(max_length=200)] | None = None


DATA_MODELS: dict[str, type[TemplateData]] = {
    "order_confirmation": OrderData,
    "gift_alert": GiftData,
}
#: What each template cannot go without, by field.
REQUIRED = {"order_confirmation": "recipient", "gift_alert": "registry_id"}


class Contact(Model):
    customer_id: CustomerId
    email: Email
    first_name: Name


class Subscription(Model):
    registry_id: RegistryId
    customer_id: CustomerId


class MailQuery(Query):
    template: Literal["order_confirmation", "gift_alert"] | None = None
    customer_id: CustomerId | None = None
    event_id: Annotated[str, Field(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
