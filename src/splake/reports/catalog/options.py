"""reportOptions: validation against a type's declaration and the options a work unit sends (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from splake.reports.types import REPORT_TYPES, ReportTypeSpec, missing_required_options


def option_errors(report_type: str, options: Mapping[str, str]) -> list[str]:
    """Why ``options`` are not valid for ``report_type`` (empty = valid). Types that declare no options
    accept anything (Amazon's own validation applies)."""
    spec = REPORT_TYPES.get(report_type)
    if spec is None:
        return [f"unknown report type {report_type!r} (`splake reports list` shows the supported ones)"]
    if not spec.options:
        return []
    declared = {o.name: o for o in spec.options}
    errors = []
    for name, value in options.items():
        opt = declared.get(name)
        if opt is None:
            errors.append(
                f"{report_type} has no reportOption {name!r}; it accepts: {', '.join(sorted(declared))}"
            )
        elif opt.values and str(value) not in opt.values:
            errors.append(
                f"{report_type} reportOption {name}={value!r} is not allowed; "
                f"use one of: {', '.join(opt.values)}"
            )
    return errors


def effective_options(
    spec: ReportTypeSpec,
    configured: Mapping[str, str],
    vendor_options: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Defaults, then the account's vendor options (only those the type takes: its declared options, else
    the ones it has defaults for; a type with neither takes none), then the per-type config options."""
    opts = dict(spec.default_options)
    if vendor_options:
        takes = {o.name for o in spec.options} or set(opts)
        opts.update({k: v for k, v in vendor_options.items() if k in takes})
    opts.update(configured)
    return opts


def missing_options(spec: ReportTypeSpec, options: Mapping[str, str]) -> list[str]:
    return missing_required_options(spec, dict(options))
