"""The vendor side of WINIT's open API protocol, as the emulator enforces it.

Written independently of the connector on purpose (a shared bug would hide itself): the server
re-serialises the ``data`` it received the way WINIT's Java gateway does (keys sorted, nulls
omitted, compact, UTF-8 unescaped) and checks ``sign`` = upper(md5(token + name/value pairs of
action, app_key, data, format, platform, sign_method, timestamp, version + token)).

Error codes other than "0" are not published in material we could find; these are the emulator's
(and the connector's) assumption, one table to fix when WINIT's dictionary is at hand.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))  # WINIT system time; China has no DST

OK = "0"
E_SIGN = "400001"
E_APP_KEY = "400002"
E_TIMESTAMP = "400003"
E_ACTION = "400004"
E_THROTTLED = "400005"
E_NOT_FOUND = "400006"
E_INVALID = "400007"
E_DUPLICATE = "400008"
E_STOCK = "400009"
E_SKU = "400010"
E_WAREHOUSE = "400011"
E_STATE = "400012"
E_SYSTEM = "500000"

MESSAGES = {
    OK: "操作成功",
    E_SIGN: "签名错误",
    E_APP_KEY: "app_key不存在或未授权",
    E_TIMESTAMP: "时间戳无效或已过期",
    E_ACTION: "接口不存在",
    E_THROTTLED: "请求过于频繁，请稍后再试",  # noqa: RUF001 (WINIT answers in Chinese)
    E_NOT_FOUND: "单据不存在",
    E_INVALID: "参数校验失败",
    E_DUPLICATE: "卖家订单号重复",
    E_STOCK: "库存不足",
    E_SKU: "商品不存在",
    E_WAREHOUSE: "仓库不存在",
    E_STATE: "单据状态不允许此操作",
    E_SYSTEM: "系统错误",
}

# SimError.code -> WINIT code
SIM_ERRORS = {
    "duplicate_reference": E_DUPLICATE, "unknown_sku": E_SKU, "unknown_warehouse": E_WAREHOUSE,
    "insufficient_stock": E_STOCK, "unknown_order": E_NOT_FOUND, "not_cancellable": E_STATE,
    "invalid_quantity": E_INVALID,
}

# sim order status -> (WINIT outbound status, statusName)
OUTBOUND_CODES = {
    "received": ("CF", "确认中"), "picking": ("PK", "拣货中"), "shipped": ("DLI", "已出库"),
    "delivered": ("TSC", "派送完成"), "cancelled": ("VO", "已作废"), "exception": ("EX", "异常"),
}

# sim event -> (eventCode, eventDescription, trace type: WH = in warehouse, LM = last mile)
TRACE_CODES = {
    "picked": ("WPK", "库内拣货完成", "WH"),
    "shipped": ("WOB", "已出库，交付承运商", "WH"),  # noqa: RUF001 (WINIT answers in Chinese)
    "info_received": ("CIR", "承运商已收到包裹信息", "LM"),
    "in_transit": ("TRN", "运输中", "LM"),
    "out_for_delivery": ("OFD", "派送中", "LM"),
    "delivered": ("DLV", "已签收", "LM"),
    "customs_delay": ("CUS", "清关延误", "LM"),
    "delivery_delay": ("DLY", "派送延误", "LM"),
    "failed_attempt": ("ATF", "派送未成功，收件人不在", "LM"),  # noqa: RUF001 (WINIT answers in Chinese)
    "address_problem": ("ADE", "地址错误或不完整", "LM"),
    "lost": ("LST", "包裹丢失", "LM"),
    "damaged": ("DMG", "包裹破损", "LM"),
    "returned_to_sender": ("RTS", "退回发件人", "LM"),
}

SIGNED_FIELDS = ("action", "app_key", "data", "format", "platform", "sign_method", "timestamp", "version")


class WinitError(Exception):
    """Refusal answered as ``{"code": code, "msg": msg, "data": null}``."""

    def __init__(self, code: str, msg: str | None = None) -> None:
        super().__init__(msg or MESSAGES.get(code, ""))
        self.code = code
        self.msg = msg or MESSAGES.get(code, "")


def invalid(field: str, detail: str = "不能为空") -> WinitError:
    return WinitError(E_INVALID, f"[{field}]{detail}")


def _drop_nulls(value):
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def reserialise(data) -> str:
    """How the gateway turns the received ``data`` back into the string it signs (absent or null
    data signs as the empty string, as WINIT's own SDK does)."""
    if data is None:
        return ""
    return json.dumps(_drop_nulls(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def expected_sign(secret: str, body: dict) -> str:
    text = secret
    for name in SIGNED_FIELDS:
        value = reserialise(body.get("data")) if name == "data" else str(body.get(name, ""))
        text += name + value
    text += secret
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def bj_time(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def bj_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%Y-%m-%d")


def parse_bj(text: str, field: str, *, date_only: bool = False) -> float:
    fmt = "%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M:%S"
    try:
        return datetime.strptime(str(text), fmt).replace(tzinfo=BEIJING).timestamp()
    except (TypeError, ValueError) as exc:
        raise invalid(field, f"格式应为{'yyyy-MM-dd' if date_only else 'yyyy-MM-dd HH:mm:ss'}") from exc


def require(data: dict, field: str):
    value = data.get(field)
    if value is None or value == "" or value == []:
        raise invalid(field)
    return value


def as_int(data: dict, field: str, *, default: int | None = None, minimum: int | None = None) -> int:
    value = data.get(field)
    if value in (None, ""):
        if default is None:
            raise invalid(field)
        return default
    try:
        number = int(str(value))
    except ValueError as exc:
        raise invalid(field, "必须为整数") from exc
    if minimum is not None and number < minimum:
        raise invalid(field, f"必须>={minimum}")
    return number
