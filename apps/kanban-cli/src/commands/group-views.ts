import { renderFields, renderTable } from '../output';

/** `GroupLimits` of the server: an absent field is no limit. */
export interface GroupLimits {
  maxInFlight?: number;
  ratePerSecond?: number;
}

/** One entry of `GET /groups/:domain`, and the answer of `PUT /groups/:domain/:group/limits`. */
export interface GroupState {
  group: string;
  ready: number;
  inFlight: number;
  limits: GroupLimits;
  override?: GroupLimits;
}

export interface GroupPage {
  items: GroupState[];
  nextCursor?: string;
}

const NO_LIMIT = '-';
/** How the default group (items published without one), which the server lists as '', is shown. */
const DEFAULT_GROUP_NAME = '(default)';

function groupName(state: GroupState): string {
  return state.group === '' ? DEFAULT_GROUP_NAME : state.group;
}

function maxInFlightText(limits: GroupLimits): string {
  return limits.maxInFlight === undefined ? NO_LIMIT : String(limits.maxInFlight);
}

function rateText(limits: GroupLimits): string {
  return limits.ratePerSecond === undefined ? NO_LIMIT : `${limits.ratePerSecond}/s`;
}

/** One row per group, with the limits in force (`-`: none). */
export function groupsTable(groups: GroupState[]): string {
  if (groups.length === 0) return 'no groups';
  const rows = groups.map((state) => [groupName(state), String(state.ready), String(state.inFlight), maxInFlightText(state.limits), rateText(state.limits)]);
  return renderTable(
    [{ header: 'GROUP' }, { header: 'READY', align: 'right' }, { header: 'IN-FLIGHT', align: 'right' }, { header: 'MAX-IN-FLIGHT', align: 'right' }, { header: 'RATE', align: 'right' }],
    rows,
  );
}

/** One group's state, saying whether its limits are its own or the defaults. */
export function groupDetails(state: GroupState): string {
  return renderFields([
    ['group', groupName(state)],
    ['ready', String(state.ready)],
    ['in flight', String(state.inFlight)],
    ['max in flight', maxInFlightText(state.limits)],
    ['rate', rateText(state.limits)],
    ['limits from', state.override ? 'this group' : 'the defaults'],
  ]);
}
