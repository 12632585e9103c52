"""OPTIONS answers for every endpoint."""

from rest_framework.metadata import SimpleMetadata


class Metadata(SimpleMetadata):
    """DRF describes PUT after looking up the object, assuming PUT is only on detail URLs. An
    upsert on a list-level action (``persons/by-nik/<nik>/``) has no object id to look up, and
    the lookup failed with 500: there, the body is described without a lookup."""

    def determine_actions(self, request, view):
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
        if lookup and lookup not in view.kwargs and hasattr(view, "get_object"):
            view.get_object = lambda: None
        return super().determine_actions(request, view)
