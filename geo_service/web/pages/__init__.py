"""The Dutch HTML pages: routes (:mod:`.maps`, :mod:`.targeting`), figures, captions, context.

Jinja2 templates live in ``geo_service/templates`` (:mod:`.templating`); a page reads layers
through :mod:`geo_service.web.published.registry` and :mod:`geo_service.web.service`, like the API.
"""
