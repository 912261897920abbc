"""`optalloc new` → edit → validate → solve; the template as a workbook; the format doc that cannot drift."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from cli import main
from optalloc.model import schema_doc
from optalloc.api import load
from optalloc.solving.solve import optimise

ROOT = Path(__file__).resolve().parent.parent


def test_new_validate_solve(tmp_path):
    runner = CliRunner()
    path = tmp_path / "jc.yaml"
    made = runner.invoke(main, ["new", str(path), "--jobcenter", "Neustadt", "--year", "2027"])
    assert made.exit_code == 0, made.output
    # edit: a planner puts in their own budget line and figure
    text = path.read_text(encoding="utf-8").replace("new_funds: 900000.00", "new_funds: 850000.00")
    text = text.replace("commitments: 4187654.33", "commitments: 4237654.33")
    path.write_text(text, encoding="utf-8")
    checked = runner.invoke(main, ["validate", str(path)])
    assert checked.exit_code == 0 and "The model reproduces its document." in checked.output, checked.output
    solved = runner.invoke(main, ["solve", str(path)])
    assert solved.exit_code == 0, solved.output
    assert solved.output.startswith("Neustadt 2027")
    assert "Constraint check" in solved.output and "are broken" not in solved.output
    for absent in ("Kennzahlen", "chapter", "ESF-LZA", "Duisburg", "VBL"):
        assert absent not in solved.output + checked.output, absent


def test_the_template_has_a_row_of_each_kind():
    from optalloc.model.template import template_text

    model = yaml.safe_load(template_text())
    rows = {r["id"]: r for r in model["instruments"]}
    kinds = {(r["financing"], "unit_cost" in r, r.get("rate_class", "").endswith("_per_1000")) for r in rows.values()}
    assert {("new", False, False), ("money_only", True, False), ("money_only", False, True),
            ("money_only", False, False), ("prepaid", False, False)} <= kinds
    assert any(p.get("amount") for p in model["pools"]) and model["groups"] and model["coverage"] and model["policy"]
    problem = load_text(template_text())
    assert optimise(problem).integrations > 0


def load_text(text: str):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.yaml"
        path.write_text(text, encoding="utf-8")
        return load(path)


def test_new_refuses_to_overwrite_and_wrong_names(tmp_path):
    runner = CliRunner()
    path = tmp_path / "jc.yaml"
    path.write_text("mine", encoding="utf-8")
    refused = runner.invoke(main, ["new", str(path)])
    assert refused.exit_code == 2 and "--force" in refused.output and path.read_text() == "mine"
    assert runner.invoke(main, ["new", str(path), "--force"]).exit_code == 0
    assert runner.invoke(main, ["new", str(tmp_path / "jc.txt")]).exit_code == 2
    assert runner.invoke(main, ["new", str(tmp_path / "y.yaml"), "--year", "1999"]).exit_code == 2


def test_the_template_as_a_workbook_imports_and_solves(tmp_path):
    runner = CliRunner()
    book = tmp_path / "plan.xlsx"
    assert runner.invoke(main, ["new", str(book)]).exit_code == 0
    imported = runner.invoke(main, ["import", str(book)])
    assert imported.exit_code == 0, imported.output
    model = tmp_path / "plan.yaml"
    solved = runner.invoke(main, ["solve", str(model), "--show", "none"])
    assert solved.exit_code == 0, solved.output
    assert runner.invoke(main, ["import", str(book)]).exit_code == 2, "the model file exists: --force to replace it"


# ----- the format doc and the JSON Schema -----


def test_every_field_of_the_schema_is_described():
    assert schema_doc.undescribed() == []


def test_the_format_doc_and_json_schema_are_generated_from_the_schema(tmp_path):
    """Regenerate both files and compare: a field added to optalloc/model/schema.py without running
    `python -m optalloc.model.schema_doc` fails here."""
    written = schema_doc.write(tmp_path)
    assert written[0].read_text(encoding="utf-8") == schema_doc.DOC.read_text(encoding="utf-8")
    assert written[1].read_text(encoding="utf-8") == schema_doc.JSON_SCHEMA.read_text(encoding="utf-8")
    doc = schema_doc.DOC.read_text(encoding="utf-8")
    for field in ("`rates_file`", "`unit_cost`", "`per`", "`labels`", "### Sheet `instruments`", "`reserve_amount`"):
        assert field in doc, field


@pytest.mark.parametrize("model", ["models/duisburg-2016.yaml", "models/example-money-only.yaml", "template"])
def test_the_json_schema_accepts_the_shipped_models(model):
    from optalloc.model.template import template_text

    data = yaml.safe_load(template_text() if model == "template" else (ROOT / model).read_text(encoding="utf-8"))
    _validator().validate(data)


def test_the_json_schema_refuses_what_validate_refuses():
    from optalloc.model.template import template_text

    data = yaml.safe_load(template_text())
    data["budget"]["egt_allocation"] = -1.0
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(data)


def _validator():
    schema = json.loads(schema_doc.JSON_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)
