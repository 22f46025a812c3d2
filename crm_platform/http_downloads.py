"""Sending records as a CSV or Excel download — the same for the API's export and the
workspace's export button."""

from __future__ import annotations

import tempfile

from flask import Response, send_file

from crm_platform.db import database
from crm_platform.services.imports import export as record_export
from crm_platform.services.records.finding import Found


def export_response(found: Found, statement: object, name: str, file_format: str,
                    locale: str) -> Response:
    """`statement` (the found records' SELECT) as `name`.csv or `name`.xlsx; hidden fields
    are left out and formula-like cells neutralised by the export service."""
    if file_format == "xlsx":
        # Not a `with` block: send_file closes the file once the response has been sent.
        handle = tempfile.TemporaryFile()  # noqa: SIM115
        with database().transaction() as session:
            record_export.write_xlsx(handle, session, statement, found.form, found.access,
                                     locale)
        handle.seek(0)
        return send_file(handle, as_attachment=True, download_name=f"{name}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument"
                                  ".spreadsheetml.sheet")

    store = database()

    def chunks():
        # The request's own session is closed once the view returns: stream from a new one.
        with store.transaction() as session:
            yield from record_export.csv_chunks(session, statement, found.form, found.access,
                                                locale)

    return Response(chunks(), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}.csv"'})
