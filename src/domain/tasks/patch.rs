//! `PATCH /tasks/{id}`: a JSON merge patch (RFC 7396) applied to the task as a client would send
//! it in full. The result is validated like a PUT body, so both take the same rules.

use serde_json::{Map, Value};

use super::{Invalid, Problem, Task};

/// The members a patch may carry.
pub const PATCHABLE: [&str; 8] =
    ["title", "description", "completed", "priority", "tags", "due", "list_id", "parent_id"];

/// The task's input with `patch` merged in: what to validate as the task's new content. Unknown
/// members, and a null `title` (a task always has one), are refused.
pub fn merge_into(task: &Task, patch: Map<String, Value>) -> Result<Value, Invalid> {
    let problems: Vec<Problem> = patch
        .iter()
        .filter_map(|(name, value)| {
            let message = if !PATCHABLE.contains(&name.as_str()) {
                "is not a field of a task a patch can change"
            } else if name == "title" && value.is_null() {
                "must not be null: a task always has a title"
            } else {
                return None;
            };
            Some(Problem { field: name.clone(), message: message.to_owned() })
        })
        .collect();
    if !problems.is_empty() {
        return Err(Invalid(problems));
    }
    let mut target = task.to_input();
    // A patch giving a parent and no list moves the task to its parent's list (a subtask is
    // always there): the list it was in is not named.
    let follows_parent = patch.get("parent_id").is_some_and(|parent| !parent.is_null())
        && !patch.contains_key("list_id");
    merge(&mut target, Value::Object(patch));
    if follows_parent && let Value::Object(members) = &mut target {
        members.remove("list_id");
    }
    Ok(target)
}

/// A task to show patches on (the API document's examples).
pub fn example_task() -> Task {
    Task {
        id: super::TaskId::new(),
        user_id: "user".to_owned(),
        title: "Buy milk".to_owned(),
        description: None,
        completed: false,
        completed_at: None,
        created_at: super::Timestamp::now(),
        updated_at: super::Timestamp::now(),
        priority: super::Priority::None,
        tags: Vec::new(),
        due: None,
        list_id: None,
        parent_id: None,
        version: 1,
    }
}

/// RFC 7396, section 2: objects merge member by member, null removes, anything else replaces.
pub fn merge(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (name, value) in patch {
            if value.is_null() {
                target.remove(&name);
            } else {
                merge(target.entry(name).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc_7396_appendix_a_examples() {
        for (original, patch, result) in [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (json!({"a":"b","b":"c"}), json!({"a":null}), json!({"b":"c"})),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (json!({"a":{"b":"c"}}), json!({"a":{"b":"d","c":null}}), json!({"a":{"b":"d"}})),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (json!({}), json!({"a":{"bb":{"ccc":null}}}), json!({"a":{"bb":{}}})),
        ] {
            let mut target = original.clone();
            merge(&mut target, patch.clone());
            assert_eq!(target, result, "{original} + {patch}");
        }
    }
}
