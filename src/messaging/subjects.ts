/**
 * Every NATS subject recflow uses, in one place.
 *
 *   <prefix>.events.in              event stream (JetStream)
 *   <prefix>.events.dlq             dead letters (JetStream, own stream)
 *   <prefix>.features.user.<token>  "features changed" notices (core NATS)
 *   <prefix>.models                 "serving model changed" notices (core NATS)
 *
 * A user id may hold characters a subject cannot (".", "*", ">", spaces),
 * so it travels as a base64url token.
 */
export class Subjects {
  constructor(readonly prefix: string) {}

  get events(): string {
    return `${this.prefix}.events.in`;
  }

  get deadLetters(): string {
    return `${this.prefix}.events.dlq`;
  }

  userFeatures(userId: string): string {
    return `${this.prefix}.features.user.${userToken(userId)}`;
  }

  get models(): string {
    return `${this.prefix}.models`;
  }

  /** Matches every user's notices. */
  get allUserFeatures(): string {
    return `${this.prefix}.features.user.*`;
  }
}

export function userToken(userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url');
}

export function userFromToken(token: string): string {
  return Buffer.from(token, 'base64url').toString('utf8');
}
