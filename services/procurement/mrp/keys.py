"""The idempotency keys of MRP's proposals: a function of (order, BOM revision, item, reason)
only, so a re-run proposes the same keys and ON CONFLICT DO NOTHING stops duplicates."""

from __future__ import annotations

import hashlib
import json
import uuid
from json.encoder import encode_basestring_ascii as _json_text

# Namespace for proposal keys: fixed forever, or re-runs after an upgrade would propose new keys
# and the ON CONFLICT guard would no longer stop duplicates.
_KEY_NAMESPACE = uuid.UUID("6f1c2a4e-8d0b-5c3e-9a71-4b2d0e5f8c19")


def proposal_key(
    order_no: str, bom_revision: str | int, item: str, reason: str | None = None
) -> str:
    """The idempotency key of a proposal: a UUID5 over (order, revision, item, reason).

    A hash of a JSON array rather than a joined string, so an item or order number containing
    the separator cannot make two different proposals collide. The revision is taken as text,
    so revision 2 and "2" are the same revision.
    """
    payload = json.dumps(["mrp", str(order_no), str(bom_revision), item, reason])
    return f"mrp-{uuid.uuid5(_KEY_NAMESPACE, payload)}"


class ProposalKeys:
    """`proposal_key` for many items of one order and revision, a few times quicker.

    The JSON array's head (order and revision) is hashed once and the hash copied per item;
    the UUID's version and variant bits are set on the digest directly. Same keys as
    `proposal_key` (tests/test_mrp_scale.py compares them); an item that is not a string goes
    the plain way, since only strings are encoded here.
    """

    def __init__(self, order_no: str, revision: str) -> None:
        self._order_no = order_no
        self._revision = revision
        head = json.dumps(["mrp", str(order_no), str(revision)])[:-1] + ", "
        self._head = hashlib.sha1(_KEY_NAMESPACE.bytes + head.encode())

    def key(self, item: str, reason: str | None = None) -> str:
        if not isinstance(item, str) or not (reason is None or isinstance(reason, str)):
            return proposal_key(self._order_no, self._revision, item, reason)
        tail = _json_text(item) + ", " + ("null" if reason is None else _json_text(reason)) + "]"
        digest = self._head.copy()
        digest.update(tail.encode())
        raw = bytearray(digest.digest()[:16])
        raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
        h = raw.hex()
        return f"mrp-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
