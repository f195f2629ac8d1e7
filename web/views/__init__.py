"""The site's views: one blueprint (`site`), one module per kind of page. `web.app.create_app`
registers it; importing the modules below attaches their routes."""
from web.views import (  # noqa: F401
    account, exhibits, iiif, items, oai, requests, scientists, search,
)
from web.views.context import site

__all__ = ["site"]
