"""One module per published layer; :mod:`geo_service.web.registry` lists them."""
