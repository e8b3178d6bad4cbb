import { createContext, useContext } from 'react';

/**
 * Colours are optional: with NO_COLOR set (https://no-color.org) panes get none, and everything
 * they mean is also said in text (level tags, state words, markers), so nothing is lost.
 */
export const ColorContext = createContext(true);

/** A colour to pass to <Text color>, or undefined when colours are off. */
export function useColor(): (color: string) => string | undefined {
  const enabled = useContext(ColorContext);
  return (color) => (enabled ? color : undefined);
}
