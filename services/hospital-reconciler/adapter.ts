import { COUNTERS } from '../../shared/reconciliation.js';
import type { HospitalMonthChange } from '../../shared/records.js';
import { GATHER_MS, type Service } from '../../shared/runner/service.js';
import type { Topics } from '../../shared/topics.js';
import { decideHospitalMonth, hospitalEntitiesOf, parseChange } from './decide.js';
import { HOSPITAL_MONTH_ITEM } from './items.js';

/** The reconciler's hospital stage as the runner sees it: hospital-month changes in, results out. */
export const hospitalReconcilerService = (topics: Topics): Service<HospitalMonthChange> => ({
  name: 'hospital-reconciler',
  input: topics.hospitalMonth,
  deadLetters: topics.hospitalReconcilerDeadLetters,
  gatherMs: GATHER_MS,
  outputs: [topics.reconciliation],
  parse: (decoded) => parseChange(decoded, topics),
  state: {
    changelog: topics.hospitalReconcilerChangelog,
    kinds: [HOSPITAL_MONTH_ITEM, COUNTERS],
    entitiesOf: hospitalEntitiesOf,
  },
  decide: (change, store) => decideHospitalMonth(change, store, topics),
});
