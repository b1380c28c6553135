//! Where a written task goes among its owner's lists and tasks: the rules every store applies,
//! given what it read of the owner's tree in the write's own transaction.

use super::{Invalid, MAX_LEVELS, Task, TaskDraft, TaskId};
use crate::domain::lists::ListId;

/// Where a task goes, as its input says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placing {
    pub list_id: Option<ListId>,
    /// Whether the input named a list (a subtask otherwise takes its parent's).
    pub list_given: bool,
    pub parent_id: Option<TaskId>,
}

impl Placing {
    pub fn of(draft: &TaskDraft) -> Self {
        Self { list_id: draft.list_id, list_given: draft.list_given, parent_id: draft.parent_id }
    }

    /// The list asked for: `None` when the input named none, `Some(None)` for the inbox. Not
    /// given, a top-level task's list is the inbox (a PUT replaces; a patch's null removes).
    pub fn wanted(&self) -> Option<Option<ListId>> {
        self.list_given.then_some(self.list_id)
    }

    /// The task's list, when the write leaves it where it is (the same parent, and no other list
    /// named): it was checked when it went there.
    pub fn unchanged(&self, task: &Task) -> Option<Option<ListId>> {
        let wanted = self.wanted();
        let stays = self.parent_id == task.parent_id
            && (wanted.is_none() && task.parent_id.is_some() || wanted == Some(task.list_id));
        stays.then_some(task.list_id)
    }

    /// The list of a top-level task, and the one the store must find among the owner's lists.
    pub fn top_level_list(&self) -> Option<ListId> {
        self.wanted().flatten()
    }
}

/// What a store read of a new parent: its list, and its ancestors' ids, nearest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    pub list_id: Option<ListId>,
    pub ancestors: Vec<TaskId>,
}

/// The list of a task placed under `parent_id` (`parent`: what the store found of it, `None`
/// when the owner has no such task). `moving` is the task being moved with the height of its
/// subtree (1 when it has no subtasks), `None` for a new task. Refused, naming the field: a
/// parent the owner does not have, the task itself or one of its subtasks (a cycle), a fifth
/// level, or a list other than the parent's.
pub fn under_parent(
    placing: &Placing,
    parent_id: TaskId,
    parent: Option<&Parent>,
    moving: Option<(TaskId, usize)>,
) -> Result<Option<ListId>, Invalid> {
    if moving.is_some_and(|(id, _)| id == parent_id) {
        return Err(Invalid::field("parent_id", "cannot be the task itself"));
    }
    let Some(parent) = parent else {
        return Err(Invalid::field("parent_id", "is not one of your tasks"));
    };
    if moving.is_some_and(|(id, _)| parent.ancestors.contains(&id)) {
        return Err(Invalid::field(
            "parent_id",
            "is a subtask of this task: that would be a cycle",
        ));
    }
    // The parent's level: 1 for a top-level task, one more for each ancestor.
    let level = 1 + parent.ancestors.len();
    let height = moving.map_or(1, |(_, height)| height);
    if level + height > MAX_LEVELS {
        return Err(Invalid::field(
            "parent_id",
            "would nest subtasks more than 4 levels deep (a task and 3 levels below it)",
        ));
    }
    if placing.wanted().is_some_and(|list| list != parent.list_id) {
        return Err(Invalid::field(
            "list_id",
            "must be the parent's list: a subtask is in its parent's list",
        ));
    }
    Ok(parent.list_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<TaskId> {
        (0..n).map(|_| TaskId::new()).collect()
    }

    fn field(result: Result<Option<ListId>, Invalid>) -> String {
        result.unwrap_err().0[0].field.clone()
    }

    #[test]
    fn a_parent_is_checked_for_cycles_depth_and_list() {
        let list = Some(ListId::new());
        let under = |parent| Placing { list_id: None, list_given: false, parent_id: Some(parent) };
        let [task, parent, grand, great] = ids(4).try_into().unwrap();
        let at = |ancestors: Vec<TaskId>| Parent { list_id: list, ancestors };
        assert_eq!(under_parent(&under(parent), parent, Some(&at(vec![])), None), Ok(list));
        assert_eq!(field(under_parent(&under(parent), parent, None, None)), "parent_id");
        let own = under_parent(&under(task), task, Some(&at(vec![])), Some((task, 1)));
        assert_eq!(field(own), "parent_id");
        let cycle = under_parent(&under(parent), parent, Some(&at(vec![task])), Some((task, 2)));
        assert_eq!(field(cycle), "parent_id");
        // A parent at level 3 takes a leaf (level 4), not a task with a subtask (level 5).
        let deep = at(vec![grand, great]);
        assert_eq!(under_parent(&under(parent), parent, Some(&deep), Some((task, 1))), Ok(list));
        assert_eq!(
            field(under_parent(&under(parent), parent, Some(&deep), Some((task, 2)))),
            "parent_id"
        );
        let elsewhere = Placing { list_id: None, list_given: true, parent_id: Some(parent) };
        assert_eq!(field(under_parent(&elsewhere, parent, Some(&at(vec![])), None)), "list_id");
    }
}
