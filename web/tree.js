// Subtasks as a tree over the tasks loaded: the server finds and orders the tasks of a view, and
// each task whose parent is among them is shown under it, in the server's order; a task whose
// parent is not (filtered out, or on a later page) is shown at the top level. Pure functions.

/** `{ children: Map(id → [task]), roots: [task] }` of `items` (in their order). */
export function treeOf(items) {
  const ids = new Set(items.map((task) => task.id));
  const children = new Map();
  const roots = [];
  for (const task of items) {
    const parent = task.parent_id ?? null;
    if (parent !== null && parent !== task.id && ids.has(parent)) {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(task);
    } else {
      roots.push(task);
    }
  }
  return { children, roots };
}

/**
 * The rows to show: `[{ task, depth, parent, children }]` depth first, each task's subtasks after
 * it unless `collapsed` (a Set of ids) holds it. `parent` is the parent task when it is shown.
 */
export function rowsOf(items, collapsed = new Set()) {
  const { children, roots } = treeOf(items);
  const rows = [];
  const seen = new Set();
  const visit = (task, depth, parent) => {
    if (seen.has(task.id)) return; // a cycle cannot come from the server; never loop on one
    seen.add(task.id);
    const below = children.get(task.id) ?? [];
    rows.push({ task, depth, parent, children: below });
    if (collapsed.has(task.id)) {
      markSeen(task.id, children, seen);
      return;
    }
    for (const child of below) visit(child, depth + 1, task);
  };
  for (const root of roots) visit(root, 0, null);
  // Tasks only reachable through a cycle (never from the server): shown at the top level.
  for (const task of items) if (!seen.has(task.id)) visit(task, 0, null);
  return rows;
}

function markSeen(id, children, seen) {
  for (const child of children.get(id) ?? []) {
    if (seen.has(child.id)) continue;
    seen.add(child.id);
    markSeen(child.id, children, seen);
  }
}

/** The ids of every loaded task below `id`, at any depth. */
export function descendantsOf(items, id) {
  const { children } = treeOf(items);
  const found = [];
  const pending = [...(children.get(id) ?? [])];
  const seen = new Set([id]);
  while (pending.length > 0) {
    const task = pending.shift();
    if (seen.has(task.id)) continue;
    seen.add(task.id);
    found.push(task.id);
    pending.push(...(children.get(task.id) ?? []));
  }
  return found;
}
