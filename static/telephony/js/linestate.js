// A line's state for its pill: the one rule, twin of telephony/linestate.py. A line with a
// live call past ringing is busy; else with a ringing call, ringing; else do-not-disturb if
// its DND is on; else idle. Pure: no DOM, so node --test imports it.

/** "idle" | "ringing" | "busy" | "dnd" from the states of the line's live calls. */
export function lineState(callStates, dnd) {
  const states = [...callStates];
  if (states.some((state) => state !== "ringing")) return "busy";
  if (states.length) return "ringing";
  return dnd ? "dnd" : "idle";
}
