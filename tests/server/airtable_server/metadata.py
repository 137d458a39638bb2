"""The metadata endpoints: List bases (GET /v0/meta/bases) and Get base
schema (GET /v0/meta/bases/{base}/tables)."""

from .errors import invalid_request
from .response import Response

BASES_PAGE = 1000           # Airtable docs, List bases: 1,000 bases a page


def list_bases(state, pairs):
    # Airtable docs, List bases: {"bases": [...], "offset"?}, 1,000 a page.
    offset = None
    for key, value in pairs:
        if key != "offset":
            raise invalid_request()
        offset = value
    bases = state.bases
    start = state.take_offset(offset, ("bases",)) if offset is not None else 0
    page = bases[start:start + BASES_PAGE]
    out = {"bases": [{"id": b.id, "name": b.name, "permissionLevel": b.permission_level} for b in page]}
    if start + BASES_PAGE < len(bases):
        out["offset"] = state.new_offset(("bases",), start + BASES_PAGE, bases[start + BASES_PAGE].id)
    return Response(200, out)


def base_schema(base, pairs):
    # Airtable docs, Get base schema: not paged; include[]=visibleFieldIds adds
    # each grid view's visible fields.
    include_visible = False
    for key, value in pairs:
        if key == "include[]" and value == "visibleFieldIds":
            include_visible = True
        else:
            raise invalid_request()
    return Response(200, {"tables": [t.meta(include_visible) for t in base.tables]})
