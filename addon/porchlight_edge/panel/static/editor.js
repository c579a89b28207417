export function attachEditor() {}
