/** Finding and replacing submodules by dotted name. */
import { type Module, ModuleList } from "@hearth/tensor";

/** The module at dotted `name` below `root` ("" is `root`). */
export function getModule(root: Module, name: string): Module | undefined {
  if (name === "") return root;
  let m: Module | undefined = root;
  for (const part of name.split(".")) {
    m = m ? [...m.namedChildren()].find(([n]) => n === part)?.[1] : undefined;
  }
  return m;
}

/**
 * Puts `child` in place of the submodule at dotted `name`: the registration, the parent's field
 * of that name (layers call `this.c_attn.forward`), and a `ModuleList`'s item.
 */
export function replaceModule(root: Module, name: string, child: Module): void {
  const dot = name.lastIndexOf(".");
  const parent = getModule(root, dot < 0 ? "" : name.slice(0, dot)) as Module;
  const leaf = name.slice(dot + 1);
  parent.registerModule(leaf, child);
  const fields = parent as unknown as Record<string, unknown> & { items?: Module[] };
  if (parent instanceof ModuleList && fields.items) fields.items[Number(leaf)] = child;
  else if (leaf in fields) fields[leaf] = child;
}
