import { COUNTERS } from '../../shared/reconciliation.js';
import type { HospitalMonthChange } from '../../shared/records.js';
import type { Service } from '../../shared/runner/service.js';
import { TOPICS } from '../../shared/topics.js';
import { decideHospitalMonth, hospitalEntitiesOf, parseChange } from './decide.js';
import { HOSPITAL_MONTH_ITEM } from './items.js';

/** The reconciler's hospital stage as the runner sees it: hospital-month changes in, results out. */
export const hospitalReconciler: Service<HospitalMonthChange> = {
  name: 'hospital-reconciler',
  input: TOPICS.hospitalMonth,
  deadLetters: TOPICS.hospitalReconcilerDeadLetters,
  outputs: [TOPICS.reconciliation],
  parse: parseChange,
  state: { kinds: [HOSPITAL_MONTH_ITEM, COUNTERS], entitiesOf: hospitalEntitiesOf },
  decide: (change, store) => decideHospitalMonth(change, store),
};
