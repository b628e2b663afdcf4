"""New or existing? The customer list (evidence/customers.py): matching by the caller number from metadata, by phone
numbers said, by names heard with speech recognition's spellings (spelled out too) and by street; the
outcome side stays the model's; the list never reaches an output."""

import csv
import json

import pytest
from conftest import run_cli

from callsort.evidence.customers import Customer, CustomerList, Said, with_customer

KEY = "callsort-test-key"  # serve refuses keys under 16 characters

pytest.importorskip("presidio_analyzer")
LABELS = ["Existing Customer - Lead Booked", "New Customer - Lead Booked", "Other"]


def customer_file(path):
    """Three customers, and a hundred others who never call."""
    rows = [("Wilma Quorrington", "330-555-0142", "52 Elmwood Road", "wq@example.com"),
            ("Desmond Thistlewood", "(216) 555-0199", "1175 Dorset Court", ""),
            ("Priya Ravikumar", "", "", "")]
    rows += [(f"Other Person{i}", f"440-555-{i:04d}", f"{i} Main Street", "") for i in range(100)]
    path.write_text("Name,Phone,Address,Email\n" + "".join(f'"{n}","{p}","{a}","{e}"\n' for n, p, a, e in rows))
    return path


def test_sides_move_the_outcome_stays():
    probs = {"Existing Customer - Lead Booked": 0.2, "New Customer - Lead Booked": 0.7, "Other": 0.1}
    assert with_customer("New Customer - Lead Booked", probs, "existing") == (
        "Existing Customer - Lead Booked", {"Existing Customer - Lead Booked": 0.9, "New Customer - Lead Booked": 0.0,
                                            "Other": 0.1})
    assert with_customer("Other", probs, "existing")[0] == "Other"
    assert with_customer("New Customer - Lead Booked", probs, "")[1] is probs


def test_fuzzy_names_need_every_word_and_streets_their_number():
    people = CustomerList([Customer(["wilma", "quorrington"], "", "52", "elmwood road", "")])
    assert people.match(Said([], ["wilma", "quorington"], [], []))[1] == "name"  # an ASR spelling
    assert people.match(Said([], ["wilma"], [], []))[0] is None  # a first name alone is not enough
    assert people.match(Said([], [], ["52"], ["elmwod", "road"]))[1] == "street"
    assert people.match(Said([], [], ["53"], ["elmwood", "road"]))[0] is None


def test_predict_with_the_customer_list(tfidf_dir, tmp_path):
    table = tmp_path / "calls.csv"
    calls = [  # each a new customer's booked lead by its words
        "Hi, my name is Wilma Quorington, Q-U-O-R-R-I-N-G-T-O-N. My furnace stopped, can you come tomorrow? Yes, booked.",
        "Hello, I need my AC looked at, first time calling you. Number is 216 555 0199. Great, see you Tuesday.",
        "Hi, this is Gregory Zanzibarian, I'm a new customer, my water heater leaks. We can come Monday. Perfect.",
        "Hi, I want a quote for a new furnace, I have never used you before. Sure, we'll be there Friday."]
    table.write_text("text\n" + "".join(f'"{c}"\n' for c in calls))
    meta = tmp_path / "meta.csv"
    meta.write_text(f"file,caller\n{table.name}:4,+1 (440) 555-0007\n")
    listing = customer_file(tmp_path / "customers.csv")
    out = tmp_path / "p.csv"
    done = run_cli("predict", table, "--model", tfidf_dir, "--out", out, "--customers", listing, "--meta", meta,
                   "--customers-complete", "-q")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(open(out)))
    assert [(r["customer"], r["customer_match"]) for r in rows] == [
        ("existing", "name"), ("existing", "phone"), ("new", ""), ("existing", "caller number")]
    for row in rows:  # the side follows the list; the outcome side (booked or not) stays the model's
        if "Lead" in row["label"]:
            assert row["label"].startswith("Existing" if row["customer"] == "existing" else "New")
        assert json.loads(row["probabilities"])[row["label"]] == pytest.approx(float(row["confidence"]), abs=1e-3)
    written = out.read_text() + done.stdout + done.stderr
    assert "Thistlewood" not in written and "Other Person" not in written and "Elmwood" not in written
    without = run_cli("predict", table, "--model", tfidf_dir, "--out", tmp_path / "q.csv", "--customers", listing, "-q")
    assert [r["customer"] for r in csv.DictReader(open(tmp_path / "q.csv"))] == ["existing", "existing", "", ""]
    assert without.returncode == 0


def test_evaluate_and_the_service_take_the_list(tfidf_dir, sample_test_csv, tmp_path):
    """`evaluate --customers` scores with the list applied; `serve --customers` answers rows that carry it."""
    import httpx
    from conftest import start_server

    listing = customer_file(tmp_path / "customers.csv")
    done = run_cli("evaluate", sample_test_csv, "--model", tfidf_dir, "--out", tmp_path / "ev", "--customers",
                   listing, "--customers-complete", "--json")
    assert done.returncode == 0, done.stderr
    assert "existing" in json.loads(done.stdout)["questions"]
    proc, url = start_server("--model", str(tfidf_dir), "--api-key", KEY, "--customers", str(listing))
    try:
        text = "Hi, my name is Desmond Thistlewood, my AC is out, can you come? Sure, Tuesday at nine, booked."
        row = httpx.post(f"{url}/v1/classify", json={"text": text}, headers={"x-api-key": KEY}, timeout=60).json()
        assert (row["customer"], row["customer_match"]) == ("existing", "name")
        assert "Thistlewood" not in json.dumps({k: v for k, v in row.items() if k != "transcript"})
    finally:
        proc.terminate()
        proc.wait(10)


def test_concurrent_requests_never_swap_customer_verdicts(tfidf_dir, tmp_path):
    """Issue 31: 60 concurrent /v1/classify requests to a real `callsort serve --customers`, half naming a listed
    customer and half naming nobody: each row carries its own call's verdict, never another request's."""
    import asyncio

    import httpx
    from conftest import start_server

    listing = customer_file(tmp_path / "customers.csv")
    proc, url = start_server("--model", str(tfidf_dir), "--api-key", KEY, "--customers", str(listing),
                             "--customers-complete")
    listed = "Hi, my name is Desmond Thistlewood, my AC is out, can you come? Sure, Tuesday at nine, booked."
    nobody = "Hi, this is Marla Quenby, my furnace is making a noise, can someone come? Yes, Friday at ten, booked."

    async def ask(client, n: int) -> tuple[int, dict]:
        text = listed if n % 2 == 0 else nobody
        answer = await client.post(f"{url}/v1/classify", json={"text": text}, headers={"x-api-key": KEY})
        return n, answer.json()

    async def all_at_once() -> list:
        async with httpx.AsyncClient(timeout=120) as client:
            return await asyncio.gather(*(ask(client, n) for n in range(60)))

    try:
        answers = asyncio.run(all_at_once())
    finally:
        proc.terminate()
        proc.wait(10)
    assert len(answers) == 60
    for n, row in answers:
        expected = ("existing", "name") if n % 2 == 0 else ("new", "")
        assert (row["customer"], row["customer_match"]) == expected, (n, row)
        if "Lead" in row["label"]:
            assert row["label"].startswith("Existing" if n % 2 == 0 else "New")


def test_evaluate_scores_exactly_the_labels_predict_gives(tfidf_dir, tmp_path):
    """One evidence path: with --meta and --customers, evaluate's errors.csv holds the same labels as predict."""
    table = tmp_path / "calls.csv"
    table.write_text("text,label\n"
                     '"Hi, my name is Desmond Thistlewood, my AC is out, can you come? Yes, Tuesday, booked.",'
                     "New Customer - Lead Booked\n"
                     '"Hello? Hello? Anyone there?",Other\n'
                     '"Hi, I need a plumber for a leak, can you come today? We can, 2 pm, see you then.",Other\n')
    meta = tmp_path / "meta.csv"
    meta.write_text("file,disposition\ncalls.csv:2,abandoned\ncalls.csv:3,answered\n")
    listing = customer_file(tmp_path / "customers.csv")
    evidence = ("--meta", meta, "--customers", listing, "--customers-complete")
    run_cli("predict", table, "--model", tfidf_dir, "--out", tmp_path / "p.csv", *evidence, "-q")
    rows = list(csv.DictReader(open(tmp_path / "p.csv", encoding="utf-8")))
    predicted = [r["label"] for r in rows]
    run_cli("evaluate", table, "--model", tfidf_dir, "--out", tmp_path / "ev", *evidence, "-q")
    truth = [r["label"] for r in csv.DictReader(open(table, encoding="utf-8"))]
    wrong = {r["source"]: r["predicted_label"]
             for r in csv.DictReader(open(tmp_path / "ev" / "errors.csv", encoding="utf-8"))}
    scored = [wrong.get(f"{table}:{i + 1}", truth[i]) for i in range(len(truth))]  # a call not listed was right
    assert rows[0]["customer"] == "existing" and (rows[1]["answered"], rows[2]["answered"]) == ("no", "yes")
    assert predicted[1] in ("Missed Call", "Voicemail - Lead") and predicted[2] not in ("Missed Call", "Voicemail - Lead")
    assert scored == predicted
