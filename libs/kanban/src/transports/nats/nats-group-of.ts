import { decodeItem } from '../../codec/item-codec';

/** The group of an encoded item; none for an item without one or bytes that are no item (they take the ungrouped path). */
export function groupOf(data: Uint8Array): string | undefined {
  try {
    return decodeItem(data, 0).group;
  } catch {
    return undefined;
  }
}
