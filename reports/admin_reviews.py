"""The supervisor's review queue: open reviews first, soonest due first, each decided on its own page.

A supervisor sees the reviews of the reports they may see in the areas they supervise (``visible_reviews``,
built on the report admin's own ``visible_reports``); a report without an area (a phone without a location fix
and no area picked) is in no one's areas, so administrators review it. Every page that shows a report is
audited.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin import widgets as admin_widgets
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, When
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from reports.admin_audit import ReportContentAudit
from reports.models import ReportVersion, ReviewTask
from reports.report_display import grading_of, location_html, shown_fields
from reports.selectors import visible_reviews
from reports.services.reviews import ReviewClosed, review_approve, review_regrade, review_return
from units.audit import audit_event

OPEN = ReviewTask.State.OPEN
OPEN_FIRST = Case(When(state=OPEN, then=0), default=1, output_field=IntegerField()).asc()


class ReviewDecisionForm(forms.Form):
    # The admin's own widgets, so the form looks like every other form of the back office.
    decision = forms.ChoiceField(widget=admin_widgets.AdminRadioSelect(attrs={"class": "radiolist"}), choices=[
        ("approve", "Approve the grading"), ("regrade", "Re-grade"), ("return", "Return to the author")])
    grading = forms.ChoiceField(required=False, label="New grading", help_text="When re-grading.")
    comment = forms.CharField(required=False, max_length=2000, widget=admin_widgets.AdminTextareaWidget(),
                              help_text="Required to re-grade or return: the author and the record see it.")

    def __init__(self, *args, gradings: list[str], current: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.current = current
        self.fields["grading"].choices = [("", "---------")] + [(g, g) for g in gradings]
        if not gradings:
            self.fields["decision"].choices = [c for c in self.fields["decision"].choices if c[0] != "regrade"]

    def clean(self):
        data = super().clean()
        decision, comment = data.get("decision"), (data.get("comment") or "").strip()
        if decision == "regrade" and not data.get("grading"):
            self.add_error("grading", "Choose the new grading.")
        elif decision == "regrade" and data["grading"] == self.current:
            self.add_error("grading", f"The report is already graded {self.current}: approve it instead.")
        if decision in ("regrade", "return") and not comment:
            self.add_error("comment", "Say why: the author and the record will see it.")
        data["comment"] = comment
        return data


def schema_gradings(version: ReportVersion) -> list[str]:
    """The gradings the reviewed version's form offers (its schema's enum for the grading field)."""
    type_version = version.type_version
    field = (type_version.schema.get("properties") or {}).get(type_version.grading_field) or {}
    return [str(value) for value in field.get("enum", [])] if type_version.grading_field else []


@admin.register(ReviewTask)
class ReviewQueueAdmin(ReportContentAudit, admin.ModelAdmin):
    list_display = ["report_summary", "report_type", "grading", "area", "version", "state", "due",
                    "overdue_alerted_at", "reviewer"]
    list_filter = ["state", ("report__area", admin.RelatedOnlyFieldListFilter),
                   ("report__report_type", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["report__report_type", "report__area", "reviewer"]
    search_fields = ["report__summary"]
    actions = None
    audit_via = "review queue"

    def get_queryset(self, request):
        return visible_reviews(request.user).select_related(*self.list_select_related)

    def shown_report(self, review):
        # The queue shows the report's summary and grading as they are now: its latest version.
        return review.report, review.report.version

    def get_ordering(self, request):
        return [OPEN_FIRST, "due_at", "id"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="report", ordering="report__summary")
    def report_summary(self, review):
        return review.report.summary or str(review.report_id)

    @admin.display(description="type", ordering="report__report_type__name")
    def report_type(self, review):
        return review.report.report_type

    @admin.display(description="grading", ordering="report__grading")
    def grading(self, review):
        return review.report.grading or "-"

    @admin.display(description="area", ordering="report__area__code")
    def area(self, review):
        return review.report.area or "no area"

    @admin.display(description="due", ordering="due_at")
    def due(self, review):
        when = timezone.localtime(review.due_at).strftime("%Y-%m-%d %H:%M")
        if review.state == OPEN and review.due_at < timezone.now():
            return format_html('<strong class="review-overdue">{} overdue</strong>', when)
        return when

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The review page: the report as the reviewed version has it, and the decision form while open."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        review = self.get_object(request, unquote(object_id))
        if review is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, review):
            raise PermissionDenied
        version = (ReportVersion.objects.select_related("type_version", "area", "author")
                   .get(report_id=review.report_id, number=review.version))
        form = None
        if review.state == OPEN and self.has_change_permission(request, review):
            form = ReviewDecisionForm(request.POST if request.method == "POST" else None,
                                      gradings=schema_gradings(version), current=version.grading)
            if form.is_bound and form.is_valid() and self.decide(request, review, form.cleaned_data):
                return redirect(reverse("admin:reports_reviewtask_changelist"))
        elif request.method == "POST" and not self.has_change_permission(request, review):
            raise PermissionDenied
        elif request.method == "POST":
            self.message_user(request, f"This review was already decided: {review.get_state_display().lower()}.",
                              messages.ERROR)
            return redirect(request.path)
        if request.method == "GET":
            audit_event(event="report_viewed", target=review.report, actor=request.user,
                        data={"version": review.version, "via": "review"})
        grading = grading_of(version.type_version, version.grading)
        leave_out = (version.type_version.grading_field,) if grading else ()
        return TemplateResponse(request, "admin/reports/reviewtask/review.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "title": f"Review of {review.report}",
            "review": review, "report": review.report, "version": version, "grading": grading,
            "report_fields": shown_fields(version.type_version, version.data, leave_out=leave_out),
            "location": location_html(review.report),
            "versions": review.report.versions.select_related("author").order_by("number"), "form": form,
            "adminform": helpers.AdminForm(form, [("Your decision", {"fields": list(form.fields)})], {})
            if form is not None else None,
            "overdue": review.state == OPEN and review.due_at < timezone.now(),
            "report_url": reverse("admin:reports_report_change", args=[review.report_id]),
        })

    def decide(self, request, review: ReviewTask, data: dict) -> bool:
        """Call the service for the decision; False (with the reason shown) when it could not be made."""
        from reports.services.filing import ReportConflict, ReportInvalid

        decision, comment = data["decision"], data["comment"]
        try:
            if decision == "approve":
                review_approve(review=review, actor=request.user, comment=comment)
            elif decision == "regrade":
                review_regrade(review=review, actor=request.user, grading=data["grading"], comment=comment)
            else:
                review_return(review=review, actor=request.user, comment=comment)
        except (ReviewClosed, ReportConflict) as error:
            self.message_user(request, str(error), messages.ERROR)
            return False
        except ReportInvalid as error:
            # Each message already names its field ("age: -3 is less than ..."), as the schema check words them.
            problems = "; ".join(" ".join(errors) for errors in error.errors.values())
            self.message_user(request, f"The re-graded report would not be valid: {problems}", messages.ERROR)
            return False
        labels = {"approve": "approved", "regrade": f"re-graded {data['grading']}", "return": "returned to the author"}
        self.message_user(request, f"Review of {review.report} {labels[decision]}.")
        return True
