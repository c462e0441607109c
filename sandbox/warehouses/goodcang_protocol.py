"""Goodcang's wire conventions, shared by the emulator's action modules, each with its source.

``sdk:`` is the public Java SDK ``EalenXie/sdk-all goodcang-sdk/src/main/java/io/github/ealenxie/
goodcang/`` (Goodcang publishes no OpenAPI; the SDK's classes link each call to
``https://open.goodcang.com/docs_api/<module>/<action>``):

* every action is ``POST https://oms.goodcang.net/public_open/<module>/<action>`` with a JSON body
  and the ``app-key`` / ``app-token`` headers (sdk:GoodCangClient.java postGoodCang);
* answers are ``{"ask": "Success"|"Failure", "message", "data", "Error": {"errMessage",
  "errCode"}}`` (sdk:ResponseAsk.java, sdk:Error.java: errCode is a String); lists add ``count``
  (total rows), ``nextPage`` and ``pagination`` ``{"page", "pageSize"}`` (sdk:ResponsePage.java,
  sdk:Pagination.java);
* every datetime is Beijing time as ``YYYY-MM-DD HH:MM:SS`` (sdk:warehouse/
  CreateOrderPayload.java payment_time "YYYY-MM-DD HH:MM:SS"); "no time"
  as ``0000-00-00 00:00:00`` is assumed.

The SDK publishes no error dictionary: every errCode and HTTP status below is this emulator's
assumption, marked so on its line.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
NO_TIME = "0000-00-00 00:00:00"


class GoodcangFailure(Exception):
    """A refusal in Goodcang's shape; ``http`` is the HTTP status it travels with."""

    def __init__(self, err_code: str, message: str, *, http: int = 200) -> None:
        super().__init__(message)
        self.err_code = err_code
        self.message = message
        self.http = http

    def body(self) -> dict:
        # sdk:ResponseAsk.java ask/message, sdk:Error.java errMessage/errCode
        return {"ask": "Failure", "message": self.message,
                "Error": {"errMessage": self.message, "errCode": self.err_code}}


# name -> (errCode, message). "assumed" on a line: no public source, this emulator's assumption.
ERRORS = {
    "auth": ("401", "app-token或app-key错误 (invalid app-token or app-key)"),  # assumed
    "throttled": ("403", "请求过于频繁\uff0c请稍后再试 (too frequent)"),  # assumed
    "no_action": ("404", "接口不存在 (no such interface)"),  # assumed
    "bad_method": ("405", "仅支持POST请求 (only POST is supported)"),  # assumed
    "bad_json": ("10100001", "请求参数不是合法的JSON (request body is not valid JSON)"),  # assumed
    "required": ("10100002", "{field}不能为空 ({field} is required)"),  # assumed
    "invalid": ("10100003", "{field}格式错误 ({field} is invalid)"),  # assumed
    "bad_range": ("10100004", "{field}时间跨度不能超过31天 ({field} span exceeds 31 days)"),  # assumed
    "dup_product": ("10102001", "商品编码已存在 (product_sku {value} already exists)"),  # assumed
    "product_verified": ("10102002", "商品已审核\uff0c不允许修改 (product {value} is audited)"),  # assumed
    "unknown_product": ("10102003", "商品不存在 (product_sku {value} does not exist)"),  # assumed
    "dup_order": ("10103001", "参考号已存在 (reference_no {value} already exists)"),  # assumed
    "unknown_sku": ("10103002", "SKU不存在 (product_sku {value} does not exist)"),  # assumed
    "unknown_warehouse": ("10103003", "仓库代码不存在 (warehouse_code {value} does not exist)"),  # assumed
    "insufficient_stock": ("10103004", "库存不足 (insufficient stock for {value})"),  # assumed
    "not_cancellable": ("10103005", "订单已发货\uff0c不能取消 (order {value} is shipped)"),  # assumed
    "bad_shipping_method": ("10103006", "物流产品不可用 (shipping_method {value} unavailable)"),  # assumed
    "no_data": ("10103086", "no data"),  # assumed
    "discarded": ("10103099", "订单已废弃"),  # assumed
    "dup_inbound": ("10104001", "入库单参考号已存在 (reference_no {value} already exists)"),  # assumed
    "dup_return": ("10105001", "退货单参考号已存在 (ref_no {value} already exists)"),  # assumed
}


def failure(name: str, *, http: int = 200, **fmt) -> GoodcangFailure:
    code, template = ERRORS[name]
    return GoodcangFailure(code, template.format(**fmt) if fmt else template, http=http)


def ok(data=None, **top) -> dict:
    """sdk:ResponseAsk.java; some answers carry their fields at the top level instead of ``data``
    (sdk:warehouse/OrderCodeResponse.java, CancelOrderResponse.java, product/ProductResponse.java)."""
    body = {"ask": "Success", "message": "Success"}
    if data is not None:
        body["data"] = data
    body.update(top)
    return body


def ok_page(rows: list, page: int, size: int) -> dict:
    """One page of ``rows`` (sdk:ResponsePage.java: count = total rows, nextPage, pagination).
    nextPage as "true"/"false": no public source: assumed."""
    chunk = rows[(page - 1) * size: page * size]
    return ok(chunk, count=len(rows), nextPage="true" if page * size < len(rows) else "false",
              pagination={"page": page, "pageSize": size})


def allow(body: dict, keys: frozenset[str]) -> None:
    """Refuse a request key the SDK's payload class does not have. How the real API treats
    unknown keys is undocumented; refusing them keeps clients to the published payloads."""
    for name in body:
        if name not in keys:
            raise failure("invalid", field=name)


def page_args(body: dict, maximum: int, *, snake_too: bool = False) -> tuple[int, int]:
    """``page`` and ``pageSize`` (sdk:Pagination.java). ``snake_too``: the call's SDK payload extends
    sdk:PagePayload.java, which spells it ``page_size``, while AkaneMurakawa/tool
    GoodCangClientDemo.java sends ``pageSize`` to the same calls: both are accepted, not both."""
    if snake_too and "page_size" in body:
        if "pageSize" in body:
            raise failure("invalid", field="page_size")
        body = {**body, "pageSize": body["page_size"]}
    page = as_int(body, "page", minimum=1)
    size = as_int(body, "pageSize", minimum=1)
    if size > maximum:
        raise failure("invalid", field="pageSize")
    return page, size


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


def parse_bj_date(value, field: str) -> date:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS`` (its date part)."""
    for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(str(value), fmt).date()
        except ValueError:
            continue
    raise failure("invalid", field=field)


def bj_midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=BEIJING).timestamp()


def require(body: dict, *fields: str) -> None:
    """The first missing required field, by name (which fields are required: no public source,
    the SDK marks none; each caller's list is assumed)."""
    for name in fields:
        value = body.get(name)
        if value is None or value == "" or value == []:
            raise failure("required", field=name)


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
