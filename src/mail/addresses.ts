/** Mail addresses as plain data: lowercased, groups flattened, display names on one line. */
import type { AddressObject } from 'mailparser';

export type MailAddress = { address: string; name: string };

type Parsed = AddressObject | AddressObject[] | undefined;

function flatten(objects: Parsed): MailAddress[] {
  const out: MailAddress[] = [];
  const visit = (list: { address?: string; name?: string; group?: unknown[] }[] | undefined): void => {
    for (const a of list ?? []) {
      if (Array.isArray(a.group)) visit(a.group as typeof list);
      const address = (a.address ?? '').trim().toLowerCase();
      if (address !== '') out.push({ address, name: (a.name ?? '').replace(/\s*[\r\n]+\s*/g, ' ').trim() });
    }
  };
  for (const o of ([] as AddressObject[]).concat(objects ?? [])) visit(o.value);
  return out;
}

export function firstAddress(objects: Parsed): MailAddress | undefined {
  return flatten(objects)[0];
}

export function addressList(objects: Parsed): string[] {
  return [...new Set(flatten(objects).map((a) => a.address))];
}

export function localPart(address: string): string {
  const at = address.lastIndexOf('@');
  return (at < 0 ? address : address.slice(0, at)).toLowerCase();
}

const MAIL_SYSTEM = /^(?:mailer[-_.]?daemon|post[-_.]?master|mail[-_.]?delivery[-_.]?(?:system|subsystem)?)$/i;

/** MAILER-DAEMON, postmaster and the like: the senders of bounces. */
export function isMailSystemAddress(address: string): boolean {
  return MAIL_SYSTEM.test(localPart(address.trim()));
}
