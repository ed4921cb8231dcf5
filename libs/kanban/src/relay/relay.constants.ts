/** A settle relayed to the lease's holder that gets no answer in this time is refused as a lapsed lease (the item comes back after its lease). */
export const RELAY_ANSWER_TIMEOUT_MS = 5_000;
