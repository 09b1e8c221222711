"""/api/v1/info/* reference data and /api/v1/openapi.json."""

from flask import Blueprint, jsonify

from app.meta.openapi import document
from app.reference import currencies

bp = Blueprint("meta_api", __name__, url_prefix="/api/v1")


@bp.get("/info/currencies")
def list_currencies():
    return jsonify(
        [{"code": c.code, "name": c.name, "symbol": c.symbol, "subunits": c.subunits} for c in currencies().values()]
    )


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(document())
