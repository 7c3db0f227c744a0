/**
 * The Block Kit limits Slack enforces (../shared/slack/README.md). Block Kit has no published
 * schema, so the fake Slack server checks these by hand. Each function is pure and returns
 * problems in Slack's own `response_metadata.messages` form, so a failing test shows the same
 * text a developer would see from the real API.
 */

export type Problems = string[];

export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  viewTitle: 24,
  viewButton: 24,
  privateMetadata: 3000,
  sectionText: 3000,
  sectionFieldText: 2000,
  sectionFields: 10,
  headerText: 150,
  id: 255,
  actionsElements: 25,
  selectOptions: 100,
  optionText: 75,
  inputMaxLength: 3000,
} as const;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const problem = (message: string, pointer: string): string => `[ERROR] ${message} [json-pointer:${pointer}]`;

function textOf(v: unknown): string | undefined {
  return isObject(v) && typeof v.text === 'string' ? v.text : undefined;
}

function maxText(v: unknown, max: number, pointer: string): Problems {
  const text = textOf(v);
  return text !== undefined && text.length > max
    ? [problem(`must be at most ${max} characters`, `${pointer}/text`)]
    : [];
}

function maxId(v: unknown, pointer: string): Problems {
  return typeof v === 'string' && v.length > LIMITS.id
    ? [problem(`must be at most ${LIMITS.id} characters`, pointer)]
    : [];
}

function maxItems(v: unknown, max: number, pointer: string): Problems {
  return Array.isArray(v) && v.length > max ? [problem(`must provide at most ${max} items`, pointer)] : [];
}

/** Interactive elements: buttons, selects, inputs, wherever they appear. */
export function elementProblems(element: unknown, pointer: string): Problems {
  if (!isObject(element)) return [problem('must be an object', pointer)];
  if (typeof element.type !== 'string') return [problem('missing required field: type', pointer)];
  const found = maxId(element.action_id, `${pointer}/action_id`);
  if (element.type === 'static_select' || element.type === 'multi_static_select') {
    found.push(...optionsProblems(element.options, `${pointer}/options`));
    if (Array.isArray(element.option_groups)) {
      element.option_groups.forEach((group, g) => {
        const options = isObject(group) ? group.options : undefined;
        found.push(...optionsProblems(options, `${pointer}/option_groups/${g}/options`));
      });
    }
  }
  if (
    element.type === 'plain_text_input' &&
    typeof element.max_length === 'number' &&
    element.max_length > LIMITS.inputMaxLength
  ) {
    found.push(problem(`must be at most ${LIMITS.inputMaxLength}`, `${pointer}/max_length`));
  }
  return found;
}

function optionsProblems(options: unknown, pointer: string): Problems {
  if (!Array.isArray(options)) return [];
  return [
    ...maxItems(options, LIMITS.selectOptions, pointer),
    ...options.flatMap((option, i) =>
      maxText(isObject(option) ? option.text : undefined, LIMITS.optionText, `${pointer}/${i}/text`),
    ),
  ];
}

export function blockProblems(block: unknown, pointer: string): Problems {
  if (!isObject(block)) return [problem('must be an object', pointer)];
  if (typeof block.type !== 'string') return [problem('missing required field: type', pointer)];
  const found = maxId(block.block_id, `${pointer}/block_id`);
  switch (block.type) {
    case 'section': {
      if (block.text === undefined && block.fields === undefined) {
        found.push(problem('must define either `text` or `fields`', pointer));
      }
      found.push(...maxText(block.text, LIMITS.sectionText, `${pointer}/text`));
      found.push(...maxItems(block.fields, LIMITS.sectionFields, `${pointer}/fields`));
      if (Array.isArray(block.fields)) {
        block.fields.forEach((field, i) =>
          found.push(...maxText(field, LIMITS.sectionFieldText, `${pointer}/fields/${i}`)),
        );
      }
      if (block.accessory !== undefined) {
        found.push(...elementProblems(block.accessory, `${pointer}/accessory`));
      }
      break;
    }
    case 'header':
      found.push(...maxText(block.text, LIMITS.headerText, `${pointer}/text`));
      break;
    case 'actions': {
      found.push(...maxItems(block.elements, LIMITS.actionsElements, `${pointer}/elements`));
      const elements = Array.isArray(block.elements) ? block.elements : [];
      elements.forEach((el, i) => found.push(...elementProblems(el, `${pointer}/elements/${i}`)));
      break;
    }
    case 'input':
      if (block.label === undefined) found.push(problem('missing required field: label', pointer));
      if (block.element === undefined) {
        found.push(problem('missing required field: element', pointer));
      } else {
        found.push(...elementProblems(block.element, `${pointer}/element`));
      }
      break;
  }
  return found;
}

/** A list of blocks: the count limit, each block, and block_ids unique within the list. */
export function blocksProblems(blocks: unknown, max: number, pointer: string): Problems {
  if (!Array.isArray(blocks)) return [problem('must be an array', pointer)];
  const found = maxItems(blocks, max, pointer);
  const seen = new Set<string>();
  blocks.forEach((block, i) => {
    found.push(...blockProblems(block, `${pointer}/${i}`));
    const id = isObject(block) ? block.block_id : undefined;
    if (typeof id === 'string') {
      if (seen.has(id)) found.push(problem(`duplicate block_id "${id}"`, `${pointer}/${i}/block_id`));
      seen.add(id);
    }
  });
  return found;
}

export function messageProblems(blocks: unknown): Problems {
  return blocks === undefined ? [] : blocksProblems(blocks, LIMITS.messageBlocks, '/blocks');
}

/** `allowHome` is true only for views.publish: a Home tab cannot be opened or pushed. */
export function viewProblems(view: unknown, allowHome: boolean): Problems {
  if (!isObject(view)) return [problem('must be an object', '/view')];
  const allowed = allowHome ? ['modal', 'home'] : ['modal'];
  if (typeof view.type !== 'string' || !allowed.includes(view.type)) {
    return [problem(`type must be one of: ${allowed.join(', ')}`, '/view/type')];
  }
  const found: Problems = [
    ...blocksProblems(view.blocks, LIMITS.viewBlocks, '/view/blocks'),
    ...maxId(view.callback_id, '/view/callback_id'),
  ];
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > LIMITS.privateMetadata) {
    found.push(problem(`must be at most ${LIMITS.privateMetadata} characters`, '/view/private_metadata'));
  }
  if (view.type === 'modal') {
    if (view.title === undefined) found.push(problem('missing required field: title', '/view'));
    found.push(...maxText(view.title, LIMITS.viewTitle, '/view/title'));
    found.push(...maxText(view.submit, LIMITS.viewButton, '/view/submit'));
    found.push(...maxText(view.close, LIMITS.viewButton, '/view/close'));
    // Slack refuses a modal whose inputs could never be submitted.
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (hasInput && view.submit === undefined) {
      found.push(problem('missing required field: submit (required with input blocks)', '/view'));
    }
  }
  return found;
}
