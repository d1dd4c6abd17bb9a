"""The documentation's promises about the tests: every test the README, the pages in docs/, RELIABILITY.md and
BENCHMARKS.md name exists (and a `-k` expression selects something), every section of those pages is in
docs/development.md's table of what the tests prove, the layers of the Layout section depend one way, and no
function in Sources is longer than 70 lines."""
import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The pages whose sections the table of what the tests prove covers (the contract is checked field by field
# against the schemas instead), and every page whose test names are checked.
SECTION_PAGES = ["README.md", "docs/operations.md", "docs/rules.md", "docs/contract-notes.md", "docs/development.md"]
DOCS = SECTION_PAGES + ["RELIABILITY.md", "BENCHMARKS.md"]
TABLE_PAGE = ROOT / "docs" / "development.md"


def swift_tests():
    """Every `Target.Suite/test` of the Swift test targets (a test belongs to the last suite declared above it)."""
    names = []
    for path in sorted((ROOT / "Tests").glob("*Tests/*.swift")):
        target, suite = path.parent.name, None
        for match in re.finditer(r"^(?:@Suite[^\n]*\n)?\s*struct (\w+)|@Test[^\n]*\n?\s*func (\w+)", path.read_text(), re.M):
            if match.group(1):
                suite = match.group(1)
                names.append(f"{target}.{suite}")
            elif suite:
                names.append(f"{target}.{suite}/{match.group(2)}")
    return names


def pytest_tests(file):
    path = ROOT / "Tests" / "blackbox" / file
    return re.findall(r"^def (test_\w+)", path.read_text(), re.M) if path.exists() else None


def selects(expression, name):
    """pytest's `-k`: each word matches as a substring of the test's name; and, or, not, parentheses."""
    words = re.sub(r"\b(?!and\b|or\b|not\b)(\w+)\b", lambda m: str(m.group(1) in name), expression)
    return eval(words, {"__builtins__": {}})


def spans(text):
    return re.findall(r"`([^`\n]+)`", text)


def test_every_test_the_docs_name_exists():
    swift = swift_tests()
    assert len(swift) > 100, "the Swift tests were found"
    problems, checked = [], 0
    for doc in DOCS:
        for span in spans((ROOT / doc).read_text()):
            files = re.findall(r"\b(test_\w+\.py)\b", span)
            for file, test in re.findall(r"\b(test_\w+\.py)::(\w+)", span):
                checked += 1
                if test not in (pytest_tests(file) or []):
                    problems.append(f"{doc}: {file}::{test}")
            for file in files:
                checked += 1
                if pytest_tests(file) is None:
                    problems.append(f"{doc}: {file} does not exist")
            expression = re.search(r"-k\s+(\"[^\"]+\"|\S+)", span)
            if expression:
                checked += 1
                expression = expression.group(1).strip('"')
                if len(files) != 1:
                    problems.append(f"{doc}: `{span}` must name the one file its -k selects in")
                elif not any(selects(expression, name) for name in pytest_tests(files[0]) or []):
                    problems.append(f"{doc}: -k {expression} selects nothing in {files[0]}")
            for name in re.findall(r"--filter\s+\"?([^\"\s<]+)", span):
                checked += 1
                if not any(re.search(name, test) for test in swift):
                    problems.append(f"{doc}: --filter {name} selects no Swift test")
            if re.fullmatch(r"\w+Tests\.\w+(/\w+)?", span):
                checked += 1
                if span not in swift:
                    problems.append(f"{doc}: {span} is no Swift suite or test")
    assert checked > 60, f"only {checked} references found: the patterns no longer match the docs"
    assert not problems, "\n".join(problems)


def anchor(heading):
    """GitHub's anchor of a heading."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_every_section_of_the_docs_is_in_this_table():
    table = TABLE_PAGE.read_text().split("\n## What the tests prove\n", 1)[1]
    sections = set()
    for page in SECTION_PAGES:
        text = (ROOT / page).read_text().split("\n## What the tests prove\n", 1)[0]
        headings = re.findall(r"^#{2,3} (.+)$", text, re.M) or re.findall(r"^# (.+)$", text, re.M)
        sections |= {((ROOT / page).resolve(), anchor(heading)) for heading in headings}
    linked = {
        ((TABLE_PAGE.parent / target).resolve() if target else TABLE_PAGE.resolve(), fragment)
        for target, fragment in re.findall(r"^\| \[[^\]]+\]\(([^)#]*)#([^)]+)\)", table, re.M)
    }
    assert linked, "the table links its sections"
    missing = sorted(f"{path.name}#{fragment}" for path, fragment in sections - linked)
    assert not missing, f"sections without a row in 'What the tests prove': {missing}"
    assert linked <= sections, f"rows that link no section: {sorted(f'{p.name}#{f}' for p, f in linked - sections)}"


def test_no_function_in_sources_is_longer_than_70_lines():
    result = subprocess.run([str(ROOT / "scripts" / "check-function-length"), "70"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# What each target may import of the project's own targets (README, Layout).
LAYERS = {
    "CRdKafka": set(), "CSimdJSON": set(),
    "Kafka": {"CRdKafka"},
    "DecisionCore": set(),
    "WireFormat": {"DecisionCore", "CSimdJSON"},
    "DecisionEngine": {"DecisionCore", "WireFormat"},
    "DecisionService": {"Kafka", "DecisionCore", "WireFormat", "DecisionEngine"},
    "optimizer-decider": {"Kafka", "DecisionCore", "WireFormat", "DecisionEngine", "DecisionService"},
}


def test_layers_depend_one_way():
    targets = {path.name for path in (ROOT / "Sources").iterdir() if path.is_dir()}
    assert targets == set(LAYERS), "every target has its place in the layers"
    for target in targets:
        imports = set()
        for source in (ROOT / "Sources" / target).rglob("*.swift"):
            imports |= set(re.findall(r"^(?:@\w+ )*import (\w+)", source.read_text(), re.M))
            if target not in ("Kafka", "CRdKafka"):
                assert not re.search(r"\brd_kafka_|\bRD_KAFKA_", source.read_text()), f"{source}: librdkafka outside the Kafka layer"
        own = imports & set(LAYERS)
        assert own <= LAYERS[target], f"{target} imports {sorted(own - LAYERS[target])}"
        if target == "DecisionCore":
            # Crypto (swift-crypto) only hashes bytes: decision ids and the rules fingerprint.
            assert imports <= {"Glibc", "Darwin", "Musl", "Crypto"}, f"the domain core does no I/O: it imports {sorted(imports)}"
