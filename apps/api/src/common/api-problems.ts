// The decorators live in @callbacks/contracts, beside ProblemDto, so that the operations routes
// shared with the worker (libs/observability) document their problems the same way.
export { ApiProblems, ApiPublic } from '@callbacks/contracts';
