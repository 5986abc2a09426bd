import { HubError } from '../../shared/errors.js';

/** A problem starting or stopping the local stack: printed as one clear message, never a stack trace. */
export class StackError extends HubError {
  constructor(message: string) {
    super(message);
    this.name = 'StackError';
  }
}
