"""Signed-in deployments: shared assistants, threads that are their maker's, admins, and what was made
before sign-in. All through the store's one ownership rule."""

from __future__ import annotations

import pytest

from playground.assistant import AssistantConfig
from playground.store import Store


@pytest.fixture
def people(tmp_path):
    path = tmp_path / "log.db"
    return Store(path, "ann@example.com"), Store(path, "bob@example.com"), Store(path, "root@example.com", admin=True)


def shared_bot(ann: Store):
    bot = ann.create_assistant()
    version, _ = ann.save_version(bot.id, AssistantConfig(name="Helpdesk", model="gpt-5", instructions="Help."))
    ann.share_assistant(bot.id)
    return bot, version


def test_a_shared_assistant_is_seen_chatted_with_and_cloned_but_not_changed_by_others(people):
    ann, bob, _ = people
    bot, version = shared_bot(ann)
    seen = bob.get_assistant(bot.id)
    assert seen.shared and seen.owner == "ann@example.com"
    assert [a["id"] for a in bob.list_assistants()] == [bot.id]
    assert [v.id for v in bob.list_versions(bot.id)] == [version.id]
    assert bob.get_version(version.id).config.instructions == "Help."
    thread = bob.create_thread(bot.id)
    message, _ = bob.start_turn(thread.id, "Hi", version.id, "gpt-5")  # runs Ann's version
    assert bob.get_message(message) is not None
    clone = bob.clone_assistant(bot.id)
    assert bob.get_assistant(clone.id).owner == "bob@example.com"
    before = ann.dump()
    for change in (
        lambda: bob.save_draft(bot.id, AssistantConfig(name="Mine now")),
        lambda: bob.save_version(bot.id, AssistantConfig(name="Mine now", model="gpt-5")),
        lambda: bob.archive_assistant(bot.id),
        lambda: bob.share_assistant(bot.id, False),
        lambda: bob.set_version_note(version.id, "Bob was here"),
        lambda: bob.get_draft(bot.id),
    ):
        with pytest.raises(LookupError):
            change()
    assert ann.dump() == before


def test_threads_on_a_shared_assistant_are_their_makers_alone(people):
    ann, bob, _ = people
    bot, version = shared_bot(ann)
    bobs = bob.create_thread(bot.id)
    bob.start_turn(bobs.id, "my question", version.id, "gpt-5")
    anns = ann.create_thread(bot.id)
    assert [t.id for t in ann.list_threads(bot.id)] == [anns.id]
    assert [t.id for t in bob.list_threads(bot.id)] == [bobs.id]
    assert ann.get_thread(bobs.id) is None and ann.list_messages(bobs.id) == []
    assert [c["id"] for c in ann.conversations()] == [anns.id]
    assert ann.search("question") == [] and len(bob.search("question")) == 1
    assert ann.list_assistants()[0]["threads"] == 1  # her own; Bob's are not hers to count
    with pytest.raises(LookupError):
        ann.delete_thread(bobs.id)


def test_an_unshared_assistant_stays_its_owners(people):
    ann, bob, _ = people
    bot, _ = shared_bot(ann)
    ann.share_assistant(bot.id, False)
    assert bob.get_assistant(bot.id) is None and bob.list_assistants() == []
    with pytest.raises(LookupError):
        bob.create_thread(bot.id)
    with pytest.raises(LookupError):
        bob.list_versions(bot.id)


def test_an_admin_sees_and_deletes_anything(people):
    ann, bob, root = people
    bot = ann.create_assistant()  # not shared
    thread = bob.create_thread(shared_bot(ann)[0].id)
    assert root.get_assistant(bot.id) is not None
    assert {a["id"] for a in root.list_assistants()} >= {bot.id}
    assert root.get_thread(thread.id) is not None
    root.delete_thread(thread.id)
    assert bob.get_thread(thread.id) is None
    root.archive_assistant(bot.id)
    assert ann.get_assistant(bot.id).archived_at is not None


def test_what_was_made_before_sign_in_goes_to_the_first_admin_shared(tmp_path):
    path = tmp_path / "log.db"
    team = Store(path, "local")
    old = team.create_assistant()
    team.create_test_set("regressions", ["q"])
    session = Store(path, "session:abc").create_assistant()
    person = Store(path, "ann@example.com").create_assistant()
    root = Store(path, "root@example.com", admin=True)
    assert root.claim_unsigned() == 2
    assert root.claim_unsigned() == 0  # once: nothing unsigned is left
    bob = Store(path, "bob@example.com")
    assert {a["id"] for a in bob.list_assistants()} == {old.id, session.id}  # shared with everyone let in
    assert bob.get_assistant(old.id).owner == "root@example.com"
    assert Store(path, "ann@example.com").get_assistant(person.id).owner == "ann@example.com"
    assert [s["name"] for s in Store(path, "root@example.com").list_test_sets()] == ["regressions"]


def test_others_see_a_shared_assistant_as_published_not_its_owners_draft(people):
    ann, bob, _ = people
    bot, _ = shared_bot(ann)
    ann.save_draft(bot.id, AssistantConfig(name="Helpdesk (work in progress)", model="gpt-5-mini"))
    [theirs] = bob.list_assistants()
    assert (theirs["name"], theirs["model"]) == ("Helpdesk", "gpt-5")
    [own] = ann.list_assistants()
    assert (own["name"], own["model"]) == ("Helpdesk (work in progress)", "gpt-5-mini")


def test_a_shared_assistant_with_no_version_cannot_be_cloned_by_others(people):
    ann, bob, _ = people
    bare = ann.create_assistant(AssistantConfig(name="Not yet"))
    ann.share_assistant(bare.id)
    with pytest.raises(ValueError, match="no saved version"):
        bob.clone_assistant(bare.id)
    assert ann.clone_assistant(bare.id).name == "Not yet (copy)"  # its owner clones the draft


def test_others_never_read_the_owners_draft_name_anywhere(people):
    ann, bob, _ = people
    bot, version = shared_bot(ann)
    ann.save_draft(bot.id, AssistantConfig(name="SECRET draft name", model="gpt-5"))
    thread = bob.create_thread(bot.id)
    bob.start_turn(thread.id, "hello there", version.id, "gpt-5")
    set_id = bob.create_test_set("mine", ["q"])
    bob.start_replay(set_id, version.id)
    seen = [
        bob.get_assistant(bot.id).name,
        bob.list_assistants()[0]["name"],
        bob.conversations()[0]["assistant"],
        bob.search("hello")[0]["assistant"],
        bob.list_replays(set_id)[0]["assistant"],
    ]
    assert seen == ["Helpdesk"] * 5
    assert ann.get_assistant(bot.id).name == "SECRET draft name"  # its owner sees her own draft's name
    unversioned = ann.create_assistant(AssistantConfig(name="Unreleased plan"))
    ann.share_assistant(unversioned.id)
    assert bob.get_assistant(unversioned.id).name == ""
    assert {a["name"] for a in bob.list_assistants()} == {"Helpdesk", ""}


def test_the_first_admin_claims_once_and_later_rows_of_no_person_stay_theirs(tmp_path):
    path = tmp_path / "log.db"
    Store(path, "local").create_assistant()
    root = Store(path, "root@example.com", admin=True)
    assert root.claim_unsigned() == 1
    later = Store(path, "local").create_assistant()  # e.g. the command line, after sign-in was turned on
    assert root.claim_unsigned() == 0
    assert Store(path, "local").get_assistant(later.id).owner == "local"


def test_a_case_cannot_point_at_another_owners_thread(people):
    ann, bob, _ = people
    bots = bob.create_thread(bob.create_assistant().id)
    set_id = ann.create_test_set("s", ["q"])
    [case] = ann.test_cases(set_id)
    for attempt in (
        lambda: ann.add_cases(set_id, [{"input": "x", "source_thread_id": bots.id}]),
        lambda: ann.update_case(case["id"], {"source_thread_id": bots.id}),
        lambda: ann.create_test_set("t", [], cases=[{"input": "x", "source_thread_id": bots.id}]),
    ):
        with pytest.raises(LookupError):
            attempt()
