"""The console's disclosures page: what was handed to an authority, and recording one.

Administrators and auditors read them (each read audited); administrators record one,
about a person chosen by name (the API takes several people at once).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from facegate.domain.disclosure import DataClass
from facegate.http.security import Principal
from facegate.services import disclosures
from facegate.services.disclosures import DisclosureRequest
from facegate.services.names import names_for
from facegate.services.paging import MAX_QUERY
from facegate.web.picker import pick
from facegate.web.render import ADMINS, AUDITORS, context_of, poster, redirect, render, viewer

router = APIRouter(prefix="/console/disclosures", include_in_schema=False)

AuditReader = Annotated[Principal, Depends(viewer(AUDITORS))]
AdminPost = Annotated[Principal, Depends(poster(ADMINS))]


@router.get("", response_class=HTMLResponse)
def disclosures_page(
    request: Request,
    principal: AuditReader,
    who: Annotated[str, Query(max_length=MAX_QUERY)] = "",
    done: bool = False,
) -> Response:
    """Every disclosure, newest approval first, and (administrators) a form for one."""
    context = context_of(request, principal)
    found = sorted(disclosures.list_disclosures(context), key=lambda d: d.approved_at, reverse=True)
    names = names_for(context, (pid for d in found for pid in d.person_ids))
    return render(
        request,
        "disclosures.html",
        disclosures=found,
        names=names,
        picker=pick(context, who),
        classes=[c.value for c in DataClass],
        done=done,
    )


@router.post("")
def record(
    request: Request,
    principal: AdminPost,
    person_id: Annotated[str, Form(min_length=1, max_length=64)],
    requesting_body: Annotated[str, Form(min_length=1, max_length=500)],
    legal_basis: Annotated[str, Form(min_length=1, max_length=500)],
    data_classes: Annotated[list[DataClass], Form(min_length=1)],
    start: Annotated[date, Form()],
    end: Annotated[date, Form()],
    approved_by: Annotated[str, Form(min_length=1, max_length=200)],
) -> Response:
    """Record a hand-over about one person (whole local days ``start`` to ``end``)."""
    handed = DisclosureRequest(
        requesting_body,
        legal_basis,
        (person_id,),
        frozenset(data_classes),
        start,
        end,
        approved_by,
    )
    disclosures.record_disclosure(context_of(request, principal), handed)
    return redirect("/console/disclosures?done=true")
