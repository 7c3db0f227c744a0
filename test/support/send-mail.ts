/** Sends mail to the bot's SMTP listener over a real SMTP conversation (nodemailer as the client). */
import nodemailer from 'nodemailer';

export interface SendOptions {
  port: number;
  from: string;
  to: string | string[];
  subject: string;
  text: string;
  messageId?: string;
  inReplyTo?: string;
  references?: string[];
  headers?: Record<string, string>;
  replyTo?: string;
  /** The SMTP envelope sender (MAIL FROM), when it differs from the From header; '' for a null sender. */
  envelopeFrom?: string;
}

function transport(port: number) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    tls: { rejectUnauthorized: true },
  });
}

export async function sendMail(o: SendOptions): Promise<{ response: string; messageId: string }> {
  const t = transport(o.port);
  try {
    const info = await t.sendMail({
      from: o.from,
      to: o.to,
      subject: o.subject,
      text: o.text,
      ...(o.messageId ? { messageId: `<${o.messageId}>` } : {}),
      ...(o.inReplyTo ? { inReplyTo: `<${o.inReplyTo}>` } : {}),
      ...(o.references ? { references: o.references.map((r) => `<${r}>`) } : {}),
      ...(o.headers ? { headers: o.headers } : {}),
      ...(o.replyTo ? { replyTo: o.replyTo } : {}),
      ...(o.envelopeFrom !== undefined
        ? { envelope: { from: o.envelopeFrom, to: ([] as string[]).concat(o.to) } }
        : {}),
    });
    return { response: info.response, messageId: info.messageId.replace(/^<|>$/g, '') };
  } finally {
    t.close();
  }
}

/** Sends bytes as they are (a corpus file), with an explicit envelope. */
export async function sendRaw(port: number, raw: Buffer, envelope: { from: string; to: string[] }): Promise<string> {
  const t = transport(port);
  try {
    const info = await t.sendMail({ envelope, raw });
    return info.response;
  } finally {
    t.close();
  }
}
