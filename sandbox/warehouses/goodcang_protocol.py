"""Goodcang's wire conventions, shared by the emulator's action modules.

Facts from Goodcang's open-API pages (copies quoted in the report; the pages live at
``https://open.goodcang.com/docs_api/<module>/<action>``):

* every action is ``POST https://oms.goodcang.net/public_open/<module>/<action>`` with a JSON body
  and the ``app-key`` / ``app-token`` headers;
* V1 actions answer ``{"ask": "Success"|"Failure", "message": ..., "data": ...}`` and, on failure,
  ``"Error": {"errMessage": ..., "errCode": <int>}`` (observed: ``10103099`` "订单已废弃",
  ``10103086`` "no data"); V2 actions (e.g. ``order/batch_query_tracking_status``) answer
  ``{"code": 0, "message": ..., "data": ...}``;
* every datetime is Beijing time (UTC+8, no DST) as ``YYYY-MM-DD HH:MM:SS``, dates as ``YYYY-MM-DD``,
  and "no time" is ``0000-00-00 00:00:00``.

The error codes other than the two observed ones, and the HTTP statuses for auth (401) and
throttling (403, as a Goodcang integration guide describes), are this emulator's assumptions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
NO_TIME = "0000-00-00 00:00:00"


class GoodcangFailure(Exception):
    """A refusal in Goodcang's shape; ``http`` is the HTTP status it travels with."""

    def __init__(self, err_code: int | str, message: str, *, http: int = 200, v2: bool = False) -> None:
        super().__init__(message)
        self.err_code = err_code
        self.message = message
        self.http = http
        self.v2 = v2

    def body(self) -> dict:
        if self.v2:
            return {"code": self.err_code, "message": self.message, "data": None}
        return {"ask": "Failure", "message": self.message, "errCode": self.err_code,
                "Error": {"errMessage": self.message, "errCode": self.err_code}}


# name -> (errCode, message). Only NO_DATA and DISCARDED are observed in real answers.
ERRORS = {
    "auth": (401, "app-token或app-key错误 (invalid app-token or app-key)"),
    "throttled": (403, "请求过于频繁\uff0c请稍后再试 (request frequency exceeds the limit)"),
    "no_action": (404, "接口不存在 (no such interface)"),
    "bad_method": (405, "仅支持POST请求 (only POST is supported)"),
    "bad_json": (10100001, "请求参数不是合法的JSON (request body is not valid JSON)"),
    "required": (10100002, "{field}不能为空 ({field} is required)"),
    "invalid": (10100003, "{field}格式错误 ({field} is invalid)"),
    "bad_range": (10100004, "{field}时间跨度不能超过31天 ({field} span exceeds 31 days)"),
    "dup_product": (10102001, "商品编码已存在 (product_sku {value} already exists)"),
    "product_verified": (10102002, "商品已审核\uff0c不允许修改 (product {value} is audited and cannot be edited)"),
    "unknown_product": (10102003, "商品不存在 (product_sku {value} does not exist)"),
    "dup_order": (10103001, "参考号已存在 (reference_no {value} already exists)"),
    "unknown_sku": (10103002, "SKU不存在 (product_sku {value} does not exist)"),
    "unknown_warehouse": (10103003, "仓库代码不存在 (warehouse_code {value} does not exist)"),
    "insufficient_stock": (10103004, "库存不足 (insufficient stock for {value})"),
    "not_cancellable": (10103005, "订单已发货\uff0c不能取消 (order {value} is shipped and cannot be cancelled)"),
    "bad_shipping_method": (10103006, "物流产品不可用 (shipping_method {value} is not available)"),
    "no_data": (10103086, "no data"),
    "discarded": (10103099, "订单已废弃"),
    "dup_inbound": (10104001, "入库单参考号已存在 (reference_no {value} already exists)"),
    "dup_return": (10105001, "退货单参考号已存在 (ref_no {value} already exists)"),
    "system": (500, "系统繁忙 (system busy)"),
}


def failure(name: str, *, http: int = 200, v2: bool = False, **fmt) -> GoodcangFailure:
    code, template = ERRORS[name]
    return GoodcangFailure(code, template.format(**fmt) if fmt else template, http=http, v2=v2)


def ok(data=None, **extra) -> dict:
    body = {"ask": "Success", "message": "Success"}
    if data is not None:
        body["data"] = data
    body.update(extra)
    return body


def ok_v2(data) -> dict:
    return {"code": 0, "message": "success", "data": data}


def bj(ts: float | None) -> str:
    """Epoch seconds -> Beijing ``YYYY-MM-DD HH:MM:SS`` (``0000-00-00 00:00:00`` for none)."""
    if not ts:
        return NO_TIME
    return datetime.fromtimestamp(int(ts), BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def utc(ts: float | None) -> str:
    if not ts:
        return NO_TIME
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d %H:%M:%S")


def bj_date(ts: float) -> date:
    return datetime.fromtimestamp(ts, BEIJING).date()


def parse_bj_date(value, field: str, *, v2: bool = False) -> date:
    try:
        return datetime.strptime(str(value), "%Y-%m-%d").date()
    except ValueError:
        raise failure("invalid", field=field, v2=v2) from None


def bj_midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=BEIJING).timestamp()


def require(body: dict, *fields: str, v2: bool = False) -> None:
    """Goodcang answers the first missing required field by name."""
    for name in fields:
        value = body.get(name)
        if value is None or value == "" or value == []:
            raise failure("required", field=name, v2=v2)


def as_int(body: dict, name: str, *, default: int | None = None, minimum: int | None = None) -> int:
    """Goodcang accepts numbers as JSON numbers or numeric strings (its own examples use both)."""
    value = body.get(name, default)
    if value is None or value == "":
        if default is None:
            raise failure("required", field=name)
        value = default
    if isinstance(value, bool):
        raise failure("invalid", field=name)
    try:
        number = int(str(value))
    except ValueError:
        raise failure("invalid", field=name) from None
    if minimum is not None and number < minimum:
        raise failure("invalid", field=name)
    return number
