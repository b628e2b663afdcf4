"""Who answered: the agent's name from the greeting."""

from callsort.data import read_calls
from callsort.speech.agent import agent_name


def test_names_in_the_shipped_calls(sample_csv):
    table = read_calls(sample_csv)
    # answered sample calls open "Thank you for calling <company>, this is <agent>, how can I help you?";
    # voicemails, menus and dropped lines name nobody (a caller's "this is James" is not the agent)
    said = [text.split("this is ", 1)[1].split(",", 1)[0] if ", this is " in text[:80] else "" for text in table.texts]
    assert [agent_name(text) for text in table.texts] == said and said.count("") < len(said) / 3


def test_greeting_forms_and_what_is_not_a_name():
    assert agent_name("Thank you for calling Blend and Suns. This is Kate. Hi Kate, my AC is out") == "Kate"
    assert agent_name("Good morning, this is Becky. I'm calling to ask") == "Becky"
    assert agent_name("This is Terry. Terry. My name is Charles") == "Terry"
    assert agent_name("Thank you for calling. This is yes, how can I help you?") == ""
    assert agent_name("Press one for service. This call may be recorded.") == ""


def test_only_the_agent_side_of_a_split_transcript():
    transcript = "Agent: You have reached our voicemail, leave a message.\nCaller: Hi, this is Sam, how can I help you"
    assert agent_name("", transcript) == ""  # the caller's name is not the agent's
    assert agent_name("", "Agent: Northside, this is Dana, how can I help you?\nCaller: Hi Dana") == "Dana"


def test_asr_spellings_of_one_agent_merge_and_a_table_maps_the_rest(tmp_path):
    from callsort.insights.agent import merged_names, read_agent_names, soundex
    from callsort.insights.report import summarise

    assert [soundex(n) for n in ("Robert", "Rupert", "Ashcraft", "Tymczak", "Pfister")] == ["R163", "R163", "A261", "T522", "P236"]
    heard = ["Kristen", "Kristen", "Kristin", "Christine", "Holly", "Hollie", "Dan", "Don", "Katie", "Kate", "Kate"]
    merged = merged_names(heard)
    assert merged["Kristin"] == "Kristen" and merged["Hollie"] == "Holly" and merged["Katie"] == "Kate"
    assert merged["Christine"] == "Christine" and merged["Don"] == "Don" and merged["Dan"] == "Dan"  # not alike enough
    table = tmp_path / "agents.csv"
    table.write_text("heard,agent\nchristine,Kristen\nKatie,Katie\n")  # Katie is someone else
    assert merged_names(heard, read_agent_names(table)) == {**merged, "Christine": "Kristen", "Katie": "Katie"}

    def row(name, meta_agent=""):  # a greeting's name, and the phone system's agent when it gave one
        return {"source": f"{name}.mp3", "label": "New Customer - Lead Booked", "agent_name": name,
                "meta": {"agent": meta_agent} if meta_agent else {}}

    s = summarise([row("Kristen"), row("Kristin"), row("Christine"), row("Anne", meta_agent="Anne"),
                   row("Ann", meta_agent="Ann")], agent_names=read_agent_names(table))
    assert set(s["booking_by_agent"]) == {"Kristen", "Anne", "Ann"}  # the phone system's names stay as given
    assert s["booking_by_agent"]["Kristen"]["leads"] == 3
