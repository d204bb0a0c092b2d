"""The before/after cost report for finance: cost model, price catalogue, usage profiles,
Cost Explorer actuals, and the HTML/JSON/CSV report (``govern report cost``, ``govern prices``)."""
