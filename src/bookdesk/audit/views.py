from django.core.paginator import Paginator
from django.shortcuts import render

from bookdesk.audit.forms import AuditFilterForm
from bookdesk.audit.selectors import audit_events
from bookdesk.core.access import admin_required

PAGE_SIZE = 50


@admin_required
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    events = audit_events(filters=form if form.is_bound and form.is_valid() else None)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    # Keep the filters in the pager's links, without the page number itself.
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
