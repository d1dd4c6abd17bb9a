"""docs/contract.md is the project's own contract: its field tables and the JSON Schemas under schemas/
name the same fields, and every document the README and the contract link to is in the repository."""
import json
import re

from conftest import ROOT, run_cli

DOC = ROOT / "docs" / "contract.md"
SCHEMAS = {
    "executor.run_result.v1": ("2.1", "2.4", "2.5"),
    "optimizer.test_execution_report.v1": ("2.2", "2.4", "2.5"),
    "optimizer.baseline_metrics.legacy": ("2.3", "2.4", "2.5"),
    "optimizer.decision.v1": ("4",),
}


def schema_fields(node, out):
    """Every property name at any depth of a schema."""
    if isinstance(node, dict):
        for name, child in node.get("properties", {}).items():
            out.add(name)
            schema_fields(child, out)
        for key in ("items", "oneOf", "anyOf", "allOf", "additionalProperties"):
            child = node.get(key)
            for item in child if isinstance(child, list) else [child]:
                schema_fields(item, out)
    return out


def sections(text):
    """The page's sections by number ('2.1', '4', …) with their text."""
    parts = re.split(r"^(#{2,3}) (\d+(?:\.\d+)?)\b", text, flags=re.M)
    return {parts[i + 1]: parts[i + 2] for i in range(1, len(parts) - 2, 3)}


def table_fields(text):
    """The last path component of each field named in the first column of a table (`a.b[].c` → c)."""
    names = set()
    for cell in re.findall(r"^\| `([^`]+)` \|", text, flags=re.M):
        if re.fullmatch(r"[a-z0-9_]+(\[\])?(\.[a-z0-9_]+(\[\])?)*", cell):
            names.add(cell.split(".")[-1].removesuffix("[]"))
    return names


def test_every_schema_field_is_on_the_page_and_every_field_on_the_page_is_in_a_schema():
    text = DOC.read_text()
    by_section = sections(text)
    for name, numbers in SCHEMAS.items():
        fields = schema_fields(json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text()), set())
        documented = set().union(*(table_fields(by_section[n]) for n in numbers))
        # Section 2.5 documents metadata.variant, which no schema constrains (anything there is accepted).
        documented.discard("variant") if name != "optimizer.decision.v1" else None
        assert fields - documented == set(), f"{name}: schema fields missing from docs/contract.md"
        assert documented - fields == set(), f"{name}: fields on the page that the schema does not have"


def anchors(page):
    """The anchors of a Markdown page's headings, as GitHub makes them."""
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in re.findall(r"^#+ (.+)$", page.read_text(), re.M)}


def test_documents_named_by_the_readme_and_the_contract_exist():
    pages = [ROOT / "README.md", ROOT / "RELIABILITY.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]
    checked = 0
    for page in pages:
        for target, fragment in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", page.read_text()):
            if target.startswith("http"):
                continue
            path = (page.parent / target).resolve() if target else page
            assert path.exists(), f"{page.name} links to {target}, which is not in the repository"
            if fragment and path.suffix == ".md":
                assert fragment in anchors(path), f"{page.name} links to {target}#{fragment}, a section that does not exist"
            checked += 1
    assert checked > 40, f"only {checked} links found"
    for page in pages:
        assert "../shared" not in page.read_text(), f"{page.name} points outside the repository"


def test_help_points_inside_the_repository():
    for command in ([], ["run"], ["replay"], ["score"]):
        result = run_cli(*command, "--help")
        text = result.stdout.decode() + result.stderr.decode()
        assert "CONTRACT.md" not in text and "../shared" not in text, command
